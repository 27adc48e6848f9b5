"""The `triagebot` command line."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from app.evaluation import LabelledSetError, Outcome, Report, read_labelled
from app.settings import Settings
from app.triage.protocol import LEVELS

cli = typer.Typer(
    help="Natalizumab symptom-triage service: serve it, triage text, evaluate labelled sets.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)
db = typer.Typer(help="Database: Alembic migrations.", no_args_is_help=True)
cli.add_typer(db, name="db")


@db.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply Alembic migrations to DATABASE_URL (default: the SQLite file)."""
    from app.settings import get_settings
    from app.store.db import upgrade

    url = get_settings().database_url
    try:
        upgrade(url, revision)
    except Exception as error:  # noqa: BLE001 - report any failure to the operator plainly
        err.print(f"[red]error:[/red] migration failed: {error}")
        raise typer.Exit(1) from None
    typer.echo(f"database at {url.split('@')[-1]} is at revision {revision}")


coordinator = typer.Typer(help="Coordinator accounts and API tokens.", no_args_is_help=True)
cli.add_typer(coordinator, name="coordinator")


def _read_password(password_stdin: bool, confirm: bool = True) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)


def _in_transaction(work) -> Any:
    """Migrate DATABASE_URL to head, then run `await work(session)` in one transaction."""
    from app.settings import get_settings
    from app.store.db import upgrade

    upgrade(get_settings().database_url)

    async def in_transaction(session):
        async with session.begin():
            return await work(session)

    return _with_session(in_transaction)


def _account_change(work) -> Any:
    """`_in_transaction`, with account errors reported plainly (exit code 2)."""
    from app.coordinator.accounts import AccountError

    try:
        return _in_transaction(work)
    except AccountError as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None


@coordinator.command("add")
def coordinator_add(
    username: Annotated[str, typer.Argument(help="Lower-case letters, digits, . _ -")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    admin: Annotated[
        bool, typer.Option("--admin", help="Also manages the accounts in the dashboard.")
    ] = False,
) -> None:
    """Create a coordinator who can sign in to the dashboard (password: 12+ characters)."""
    from app.coordinator.accounts import ADMIN, add_coordinator, check_new_account

    password = _read_password(password_stdin)
    try:
        check_new_account(username, password)
    except ValueError as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    role = ADMIN if admin else "coordinator"
    _account_change(lambda session: add_coordinator(session, username, password, role))
    typer.echo(f"{'admin' if admin else 'coordinator'} {username} added; sign in at /coordinator")


@coordinator.command("role")
def coordinator_role(
    username: Annotated[str, typer.Argument(help="An existing coordinator.")],
    role: Annotated[str, typer.Argument(help="coordinator or admin")],
) -> None:
    """Make a coordinator an admin (who manages the accounts in the dashboard), or not."""
    from app.coordinator.accounts import set_role

    _account_change(lambda session: set_role(session, username, role))
    typer.echo(f"{username} is now {role}")


@coordinator.command("password")
def coordinator_password(
    username: Annotated[str, typer.Argument(help="An existing coordinator.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Set a coordinator's password (signs out all their browsers, revokes their API
    tokens)."""
    from app.coordinator.accounts import set_password

    password = _read_password(password_stdin)
    _account_change(lambda session: set_password(session, username, password))
    typer.echo(
        f"password of {username} changed; their browsers are signed out and API tokens revoked"
    )


@coordinator.command("token")
def coordinator_token(
    username: Annotated[str, typer.Argument(help="The coordinator the token acts as.")],
    days: Annotated[int, typer.Option(min=1, max=366, help="Days until it expires.")] = 90,
) -> None:
    """Print a new API token for /api/coordinator (shown once; only its hash is stored)."""
    from datetime import timedelta

    from app.coordinator.accounts import issue_token

    token, expires = _account_change(
        lambda session: issue_token(session, username, timedelta(days=days))
    )
    err.print(f"API token for {username}, expires {expires:%Y-%m-%d %H:%M} UTC:")
    typer.echo(token)


def _cli_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"


@cli.command()
def purge(
    older_than: Annotated[
        float,
        typer.Option(
            "--older-than",
            min=1,
            help="Days without activity after which to purge.",
            show_default=False,
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete what patients wrote in conversations idle for DAYS days: messages, notes,
    alert notes. Conversations keep their level and dates, alerts their severity and who
    acted when; each purge is in the audit log."""
    from app.conversations.retention import purge_older_than

    if not yes:
        typer.confirm(
            f"Delete the messages and notes of every conversation idle for {older_than:g} days?",
            abort=True,
        )
    count = _in_transaction(
        lambda session: purge_older_than(session, older_than, actor=_cli_actor())
    )
    typer.echo(f"purged {count} conversation{'s' if count != 1 else ''}")
    _forget_deleted()


def _forget_deleted() -> None:
    from app.settings import get_settings
    from app.store.db import forget_deleted

    if not forget_deleted(get_settings().database_url):
        err.print(
            "note: the service is busy; deleted text leaves the SQLite log file at its next "
            "checkpoint (run this again later to be sure)"
        )


@cli.command("delete-conversation")
def delete_conversation(
    conversation_id: Annotated[str, typer.Argument(help="The conversation's id.")],
    reason: Annotated[
        str, typer.Option(help="Why, for the audit log (e.g. 'patient's request, ticket 42').")
    ],
) -> None:
    """Delete one conversation's messages and notes on request (GDPR-style); its alerts
    and the audit log keep the record, without text."""
    from app.conversations.retention import purge_conversation

    found = _in_transaction(
        lambda session: purge_conversation(
            session, conversation_id, actor=_cli_actor(), via="cli", reason=reason
        )
    )
    if not found:
        err.print(f"[red]error:[/red] no conversation {conversation_id!r}")
        raise typer.Exit(2)
    typer.echo(f"conversation {conversation_id}: messages and notes deleted")
    _forget_deleted()


def _triager():
    """Load the triage model; a broken data file is reported plainly (exit 2)."""
    from app.triager import Triager  # imported late: loading the model takes ~1 s

    try:
        return Triager()
    except ValueError as error:  # ProtocolError, TrainingDataError, LexiconError, ...
        err.print(f"[red]error:[/red] cannot load the triage model: {error}")
        raise typer.Exit(2) from None


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Run the HTTP service (uvicorn)."""
    import uvicorn

    from app.observability import logs
    from app.settings import get_settings

    settings = get_settings()
    logs.configure(settings.log_level, settings.log_format)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        log_config=None,  # logs.configure's structured lines, not uvicorn's own
        access_log=False,  # ours (RequestLog) carry the route template, not the query
        **proxy_options(settings),
    )


def proxy_options(settings: Settings) -> dict[str, object]:
    """uvicorn's proxy-header options: believed only from TRIAGE_TRUSTED_PROXIES (uvicorn's
    own default would believe any X-Forwarded-For sent from 127.0.0.1)."""
    proxies = settings.trusted_proxies
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": ",".join(proxies) or ""}


@cli.command()
def parse(
    text: Annotated[str, typer.Argument(help="The patient's message.")],
    lang: Annotated[str | None, typer.Option(help="Language (en); detected when omitted.")] = None,
) -> None:
    """Print the NLU parse of TEXT (Rasa's parse JSON with context flags)."""
    from app.inputs import InputError, check_text

    try:
        check_text(text)
        result = _triager().parse(text, lang).to_rasa()
    except (InputError, ValueError) as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    typer.echo(json.dumps(result, ensure_ascii=False))


@cli.command()
def triage(
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help='Read {"text", "lang"?} JSON lines on stdin.')
    ] = False,
    text: Annotated[str | None, typer.Argument(help="One message (without --jsonl).")] = None,
    lang: Annotated[str | None, typer.Option(help="Language for TEXT.")] = None,
) -> None:
    """Triage messages: one triage JSON line out per input line, in order."""
    from app.inputs import InputError, check_text, triage_request

    triager = _triager()
    if not jsonl:
        if text is None:
            err.print("[red]error:[/red] give TEXT or use --jsonl with JSON lines on stdin")
            raise typer.Exit(2)
        try:
            check_text(text)
            typer.echo(json.dumps(triager.triage_json(text, lang), ensure_ascii=False))
        except (InputError, ValueError) as error:
            err.print(f"[red]error:[/red] {error}")
            raise typer.Exit(2) from None
        return
    failures = 0
    for number, raw in enumerate(sys.stdin, start=1):
        output: dict[str, Any]
        try:
            request = triage_request(raw)
            output = triager.triage_json(request.text, request.lang)
        except (InputError, ValueError) as error:
            failures += 1
            output = {"error": str(error), "line": number}
        sys.stdout.write(json.dumps(output, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    if failures:
        err.print(f"{failures} line(s) could not be triaged; see their error objects")


@cli.command()
def evaluate(
    labelled: Annotated[
        Path | None, typer.Argument(help="JSONL with text, level, categories, lang?.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    min_exact: Annotated[
        float, typer.Option(help="Fail when exact-level accuracy is below this (0-1).")
    ] = 0.0,
    leave_one_out: Annotated[
        bool,
        typer.Option(
            "--leave-one-out",
            help="Score each labelled set (a folder, default labelled/en) with the "
            "red-flag safety net trained on the other sets only, and with no net.",
        ),
    ] = False,
) -> None:
    """Validation report: under-triaged red flags first, confusion matrix, sensitivity.

    Exits 1 when any urgent/emergency message is triaged below its level, or when exact
    accuracy is below --min-exact.
    """
    if leave_one_out:
        _leave_one_out(labelled, as_json)
        return
    if labelled is None:
        err.print("[red]error:[/red] give a labelled JSONL file (or --leave-one-out)")
        raise typer.Exit(2)
    try:
        items = read_labelled(labelled)
    except (OSError, LabelledSetError) as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    triager = _triager()
    report = Report()
    for item in items:
        _, result = triager.assess(item.text, item.lang)
        report.outcomes.append(Outcome(item, result.level, result.categories))
    summary = report.to_dict()
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        _print_report(labelled, summary)
    failed = bool(summary["under_triaged"]) or summary["exact_level"] < min_exact
    raise typer.Exit(1 if failed else 0)


def _leave_one_out(folder: Path | None, as_json: bool) -> None:
    """The safety net's generalisation: no set scores a net that trained on it."""
    from rich.progress import track

    from app.evaluation import leave_one_set_out
    from app.nlu.training_data import LABELLED_DIR

    folder = folder or LABELLED_DIR / "en"
    if not folder.is_dir() or not any(folder.glob("*.jsonl")):
        err.print(f"[red]error:[/red] {folder} is not a folder of labelled .jsonl sets")
        raise typer.Exit(2)
    triager = _triager()
    err.print(f"leave one set out: {len(list(folder.glob('*.jsonl')))} sets in {folder}")
    scores = leave_one_set_out(triager, folder, progress=lambda it: track(it, console=err))
    red = sum(s.red_flags for s in scores)
    with_net = sum(s.under_with_net for s in scores)
    without = sum(s.under_without_net for s in scores)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "sets": [s.to_dict() for s in scores],
                    "red_flags": red,
                    "under_triaged_with_net": with_net,
                    "under_triaged_without_net": without,
                },
                indent=2,
            )
        )
        return
    table = Table(title="Red flags scored by a safety net that never saw their set")
    for column in ("set", "messages", "red flags", "under, net", "under, no net", "exact, net"):
        table.add_column(column)
    for s in scores:
        table.add_row(
            s.name,
            str(s.messages),
            str(s.red_flags),
            str(s.under_with_net),
            str(s.under_without_net),
            f"{s.exact_with_net:.1%}",
        )
    Console(width=140).print(table)
    typer.echo(
        f"red-flag sensitivity, leave one set out: {(red - with_net) / max(1, red):.1%} "
        f"({with_net} of {red} under-triaged); without the net: "
        f"{(red - without) / max(1, red):.1%} ({without} under-triaged)"
    )


@cli.command()
def replay(
    paths: Annotated[list[Path] | None, typer.Argument(help="Fixture files or folders.")] = None,
    url: Annotated[
        str | None, typer.Option(help="Replay against a running server's REST channel.")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="TRIAGE_REST_TOKEN",
            help="With --url: the server's REST channel token (TRIAGE_REST_CHANNEL=token).",
            show_default=False,
        ),
    ] = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Only fixtures with this tag.")] = None,
    lang: Annotated[str | None, typer.Option(help="Only fixtures in this language.")] = None,
    transcripts: Annotated[
        bool,
        typer.Option(
            "--transcripts",
            help="Re-run the stored conversations (DATABASE_URL) through this build and list "
            "those whose level would now differ, lower first.",
        ),
    ] = False,
    since: Annotated[
        datetime | None, typer.Option(help="With --transcripts: conversations from this date.")
    ] = None,
) -> None:
    """Replay conversation fixtures; exit 0 only when every expectation holds.

    In-process on a fresh temporary database by default, or through --url.
    """
    import asyncio

    if transcripts:
        _recheck_transcripts(since)
        return
    if not paths:
        err.print("[red]error:[/red] give fixture files or folders, or --transcripts")
        raise typer.Exit(2)

    from app.replay.fixtures import FixtureError, FixtureLoader
    from app.replay.runner import in_process_client, remote_client, write_junit
    from app.replay.runner import replay as replay_one

    triager = None if url else _triager()
    from app.dialogue.domain import default_domain
    from app.triage.protocol import default_protocol

    loader = FixtureLoader(default_protocol(), set(default_domain().responses))
    try:
        fixtures = loader.load_paths(paths)
    except FixtureError as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    fixtures = [
        f for f in fixtures if (not tag or set(tag) & set(f.tags)) and (not lang or f.lang == lang)
    ]
    if not fixtures:
        err.print("[red]error:[/red] no fixture matches")
        raise typer.Exit(2)

    async def run_all():
        from rich.progress import Progress

        client = remote_client(url, token) if url else in_process_client(triager)
        results = []
        async with client as http:
            with Progress(console=err, transient=True) as progress:
                task = progress.add_task("replaying", total=len(fixtures))
                for fixture in fixtures:
                    results.append(await replay_one(fixture, http))
                    progress.advance(task)
        return results

    results = asyncio.run(run_all())
    out = Console(width=140)
    for result in results:
        if not result.passed:
            out.print(result.diff(), markup=False, highlight=False)
    table = Table(title="Replay summary")
    for column in ("fixture", "file", "turns", "result"):
        table.add_column(column)
    for result in results:
        table.add_row(
            result.fixture.name,
            result.fixture.location,
            str(len(result.fixture.turns)),
            "[green]pass[/green]" if result.passed else "[red]FAIL[/red]",
        )
    out.print(table)
    failed = sum(not r.passed for r in results)
    out.print(f"{len(results) - failed} passed, {failed} failed")
    if junit:
        write_junit(results, junit)
    raise typer.Exit(1 if failed else 0)


def _recheck_transcripts(since: datetime | None) -> None:
    """Exit 1 when any stored conversation would now end at a lower level."""
    from app.dialogue.runner import DialogueEngine
    from app.replay.transcripts import rerun_transcripts
    from app.settings import get_settings

    dialogue = DialogueEngine(_triager(), get_settings().clinic())
    moment = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
    checked, changes = _with_session(lambda session: rerun_transcripts(session, dialogue, moment))
    out = Console(width=140)
    table = Table(title=f"Conversations whose level would change ({len(changes)} of {checked})")
    for column in ("conversation", "stored level", "level now", "patient turns", "change"):
        table.add_column(column)
    for change in changes:
        table.add_row(
            change.conversation_id,
            change.stored,
            change.now,
            str(change.turns),
            "[red]LOWER[/red]" if change.lower else "higher",
        )
    out.print(table)
    lower = sum(change.lower for change in changes)
    out.print(f"{checked} conversations re-run: {lower} lower, {len(changes) - lower} higher")
    raise typer.Exit(1 if lower else 0)


@cli.command("export-fixture")
def export_fixture(
    conversation_id: Annotated[str, typer.Argument(help="A stored conversation's id.")],
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
    name: Annotated[str | None, typer.Option(help="The fixture's name.")] = None,
) -> None:
    """Write a fixture from a stored conversation, with today's decisions as expectations."""
    from app.replay.transcripts import ConversationNotFound
    from app.replay.transcripts import export_fixture as export

    try:
        text = _with_session(lambda session: export(session, conversation_id, name))
    except ConversationNotFound as error:
        err.print(f"[red]error:[/red] no conversation {error}")
        raise typer.Exit(2) from None
    if output:
        output.write_text(text, encoding="utf-8")
        err.print(f"fixture written to {output}")
    else:
        typer.echo(text)


def _print_rows(out: Console, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        out.print(
            f"  line {row['line']}: expected {row['expected']} {row['expected_categories']}, "
            f"got {row['predicted']} {row['predicted_categories']}: {row['text']!r}"
        )


def _with_session(work):
    """Run `await work(session)` on DATABASE_URL and return its result."""
    import asyncio

    from app.settings import get_settings
    from app.store.db import make_engine, make_sessionmaker

    async def run():
        engine = make_engine(get_settings().database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _print_report(path: Path, summary: dict[str, Any]) -> None:
    out = Console(width=140)
    out.rule(f"Triage validation: {path} ({summary['total']} messages)")
    under = summary["under_triaged"]
    if under:
        out.print(f"[bold red]UNDER-TRIAGED RED FLAGS: {len(under)}[/bold red]")
        _print_rows(out, under)
    else:
        out.print("[bold green]No red flag under-triaged.[/bold green]")
    out.print(
        f"Exact level: {summary['exact_level']:.1%}   over-triage rate: "
        f"{summary['over_triaged_rate']:.1%}   first-category recall: "
        f"{summary['first_category_recall']:.1%}"
    )

    matrix = Table(title="Confusion matrix (rows: expected, columns: predicted)")
    matrix.add_column("expected")
    for level in LEVELS:
        matrix.add_column(level, justify="right")
    for level in LEVELS:
        matrix.add_row(level, *(str(summary["confusion"][level][p]) for p in LEVELS))
    out.print(matrix)

    sensitivity = Table(title="Sensitivity per level")
    for column in ("level", "support", "exact", "at or above"):
        sensitivity.add_column(column, justify="right")
    for level, row in summary["sensitivity"].items():
        sensitivity.add_row(
            level, str(row["support"]), f"{row['exact']:.1%}", f"{row['at_or_above']:.1%}"
        )
    out.print(sensitivity)

    categories = Table(title="Category recall")
    for column in ("category", "support", "recall"):
        categories.add_column(column, justify="right")
    for name, row in summary["category_recall"].items():
        categories.add_row(name, str(row["support"]), f"{row['recall']:.1%}")
    out.print(categories)

    wrong = summary["wrong_level"]
    if wrong:
        out.print(f"[bold]Wrong level ({len(wrong)}):[/bold]")
        _print_rows(out, wrong)
    missed = [r for r in summary["missed_first_category"] if r["expected"] == r["predicted"]]
    if missed:
        out.print(f"[bold]Right level, first category missed ({len(missed)}):[/bold]")
        for row in missed:
            out.print(
                f"  line {row['line']}: expected {row['expected_categories']}, "
                f"got {row['predicted_categories']}: {row['text']!r}"
            )


def main() -> None:
    cli()
