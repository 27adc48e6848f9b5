"""Conversation fixtures (YAML): loading and validation with file and line numbers.

A file holds one fixture per YAML document (documents separated by `---`), or a list of
fixtures. Unknown keys, levels, categories and response names are errors reported with the
file and line before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.triage.protocol import LEVELS, Protocol

FIXTURE_KEYS = {"fixture", "lang", "tags", "turns"}
TURN_KEYS = {"user", "expect"}
EXPECT_KEYS = {
    "level",
    "categories",
    "categories_any",
    "asks",
    "utter",
    "bot_contains",
    "bot_not_contains",
}
QUESTIONS = {"infusion_window", "red_flag_screen"}
LANGS = {"en", "zh"}


class FixtureError(ValueError):
    """A malformed fixture; the message starts with FILE:LINE."""


@dataclass
class Expectation:
    level: str | None = None
    categories: list[str] = field(default_factory=list)
    categories_any: list[str] = field(default_factory=list)
    asks: str | None = None
    utter: list[str] = field(default_factory=list)
    bot_contains: list[str] = field(default_factory=list)
    bot_not_contains: list[str] = field(default_factory=list)


@dataclass
class Turn:
    user: str
    expect: Expectation
    line: int


@dataclass
class Fixture:
    name: str
    path: Path
    line: int
    turns: list[Turn]
    lang: str = "en"
    tags: list[str] = field(default_factory=list)

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _mapping(node: yaml.Node, where: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        raise FixtureError(f"{where}:{_line(node)}: expected a mapping")
    return {str(k.value): (k, v) for k, v in node.value}


def _string_list(node: yaml.Node, where: str, what: str) -> list[str]:
    if isinstance(node, yaml.ScalarNode):
        return [str(node.value)]
    if not isinstance(node, yaml.SequenceNode) or not all(
        isinstance(item, yaml.ScalarNode) for item in node.value
    ):
        raise FixtureError(f"{where}:{_line(node)}: {what} must be a list of strings")
    return [str(item.value) for item in node.value]


class FixtureLoader:
    """Validates fixtures against the protocol (levels, categories) and the domain
    (response names)."""

    def __init__(self, protocol: Protocol, responses: set[str]) -> None:
        self.categories = set(protocol.categories) | set(protocol.info_topics)
        self.responses = responses | set(protocol.responses)  # clinical texts live there

    def load_paths(self, paths: list[Path]) -> list[Fixture]:
        files: list[Path] = []
        for path in paths:
            if path.is_dir():
                files += sorted(p for p in path.rglob("*.y*ml") if p.suffix in {".yml", ".yaml"})
            elif path.exists():
                files.append(path)
            else:
                raise FixtureError(f"{path}: no such file or folder")
        fixtures: list[Fixture] = []
        for file in files:
            fixtures += self.load_file(file)
        return fixtures

    def load_file(self, path: Path) -> list[Fixture]:
        where = str(path)
        try:
            documents = list(yaml.compose_all(path.read_text(encoding="utf-8")))
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = mark.line + 1 if mark else 1
            raise FixtureError(f"{where}:{line}: not valid YAML: {error}") from None
        fixtures: list[Fixture] = []
        for document in documents:
            if document is None:
                continue
            nodes = document.value if isinstance(document, yaml.SequenceNode) else [document]
            for node in nodes:
                fixtures.append(self._fixture(node, path, len(fixtures) + 1))
        if not fixtures:
            raise FixtureError(f"{where}:1: no fixture in this file")
        return fixtures

    def _fixture(self, node: yaml.Node, path: Path, number: int) -> Fixture:
        where = str(path)
        items = _mapping(node, where)
        for key, (key_node, _) in items.items():
            if key not in FIXTURE_KEYS:
                raise FixtureError(
                    f"{where}:{_line(key_node)}: unknown key {key!r} "
                    f"(expected {', '.join(sorted(FIXTURE_KEYS))})"
                )
        if "turns" not in items:
            raise FixtureError(f"{where}:{_line(node)}: missing 'turns'")
        name = f"{path.stem} #{number}"  # a fixture without a name is named by its place
        if "fixture" in items:
            name_node = items["fixture"][1]
            if not isinstance(name_node, yaml.ScalarNode) or not str(name_node.value).strip():
                raise FixtureError(f"{where}:{_line(name_node)}: 'fixture' must be a name")
            name = str(name_node.value)
        lang = "en"
        if "lang" in items:
            lang = str(items["lang"][1].value)
            if lang not in LANGS:
                raise FixtureError(f"{where}:{_line(items['lang'][1])}: unknown lang {lang!r}")
        tags = _string_list(items["tags"][1], where, "tags") if "tags" in items else []
        turns_node = items["turns"][1]
        if not isinstance(turns_node, yaml.SequenceNode) or not turns_node.value:
            raise FixtureError(f"{where}:{_line(turns_node)}: 'turns' must be a non-empty list")
        turns = [self._turn(turn, where) for turn in turns_node.value]
        return Fixture(name, path, _line(node), turns, lang, tags)

    def _turn(self, node: yaml.Node, where: str) -> Turn:
        items = _mapping(node, where)
        for key, (key_node, _) in items.items():
            if key not in TURN_KEYS:
                raise FixtureError(f"{where}:{_line(key_node)}: unknown turn key {key!r}")
        if "user" not in items:
            raise FixtureError(f"{where}:{_line(node)}: turn without 'user'")
        user_node = items["user"][1]
        if not isinstance(user_node, yaml.ScalarNode) or not str(user_node.value).strip():
            raise FixtureError(f"{where}:{_line(user_node)}: 'user' must be the patient's text")
        expect = Expectation()
        if "expect" in items:
            expect = self._expect(items["expect"][1], where)
        return Turn(str(user_node.value), expect, _line(node))

    def _expect(self, node: yaml.Node, where: str) -> Expectation:
        items = _mapping(node, where)
        expect = Expectation()
        for key, (key_node, value) in items.items():
            line = _line(key_node)
            if key not in EXPECT_KEYS:
                raise FixtureError(
                    f"{where}:{line}: unknown expectation {key!r} "
                    f"(expected {', '.join(sorted(EXPECT_KEYS))})"
                )
            if key == "level":
                if str(value.value) not in LEVELS:
                    raise FixtureError(f"{where}:{line}: unknown level {value.value!r}")
                expect.level = str(value.value)
            elif key in ("categories", "categories_any"):
                names = _string_list(value, where, key)
                unknown = [n for n in names if n not in self.categories]
                if unknown:
                    raise FixtureError(f"{where}:{line}: unknown category {unknown[0]!r}")
                setattr(expect, key, names)
            elif key == "asks":
                if str(value.value) not in QUESTIONS:
                    raise FixtureError(f"{where}:{line}: unknown question {value.value!r}")
                expect.asks = str(value.value)
            elif key == "utter":
                names = _string_list(value, where, key)
                unknown = [n for n in names if n not in self.responses]
                if unknown:
                    raise FixtureError(f"{where}:{line}: unknown response {unknown[0]!r}")
                expect.utter = names
            else:
                setattr(expect, key, _string_list(value, where, key))
        return expect


def as_dict(fixture: Fixture) -> dict[str, Any]:
    """A fixture as plain data (for writing it back as YAML)."""
    turns = []
    for turn in fixture.turns:
        expect = {
            key: value for key, value in vars(turn.expect).items() if value not in (None, [], "")
        }
        turns.append({"user": turn.user, "expect": expect} if expect else {"user": turn.user})
    data: dict[str, Any] = {"fixture": fixture.name, "lang": fixture.lang}
    if fixture.tags:
        data["tags"] = fixture.tags
    data["turns"] = turns
    return data
