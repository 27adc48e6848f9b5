"""one active alert per conversation with its history; REST senders in their own namespace

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Existing data: REST conversations get the "rest:" sender prefix (so no REST sender can
name a widget conversation); every alert gets its history rebuilt from its timestamps;
several active alerts of one conversation are merged into the most severe (then oldest)
one, the others resolved by "system" with a note naming the alert they were merged into.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SEVERITY_ORDER = {"critical": 0, "high": 1, "normal": 2}
ACTIVE = "status IN ('open', 'acknowledged')"


def upgrade() -> None:
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE conversations SET sender_id = 'rest:' || sender_id "
            "WHERE channel = 'rest' AND sender_id NOT LIKE 'rest:%'"
        )
    )
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_events_alert", "alert_events", ["alert_id"])

    alerts = sa.table(
        "alerts",
        sa.column("id", sa.Integer),
        sa.column("conversation_id", sa.String),
        sa.column("message_id", sa.Integer),
        sa.column("severity", sa.String),
        sa.column("level", sa.String),
        sa.column("categories", sa.JSON),
        sa.column("status", sa.String),
        sa.column("note", sa.Text),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("acknowledged_at", sa.DateTime(timezone=True)),
        sa.column("acknowledged_by", sa.String),
        sa.column("resolved_at", sa.DateTime(timezone=True)),
        sa.column("resolved_by", sa.String),
    )
    events = sa.table(
        "alert_events",
        sa.column("alert_id", sa.Integer),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("kind", sa.String),
        sa.column("severity", sa.String),
        sa.column("level", sa.String),
        sa.column("categories", sa.JSON),
        sa.column("actor", sa.String),
        sa.column("message_id", sa.Integer),
    )
    rows = bind.execute(sa.select(alerts).order_by(alerts.c.id)).mappings().all()
    history = []
    for row in rows:
        common = {
            "alert_id": row["id"],
            "severity": row["severity"],
            "level": row["level"],
            "categories": row["categories"] or [],
        }
        history.append(
            {**common, "at": row["created_at"], "kind": "raised", "actor": None,
             "message_id": row["message_id"]}
        )  # fmt: skip
        if row["acknowledged_at"] is not None:
            history.append(
                {**common, "at": row["acknowledged_at"], "kind": "acknowledged",
                 "actor": row["acknowledged_by"], "message_id": None}
            )  # fmt: skip
        if row["resolved_at"] is not None:
            history.append(
                {**common, "at": row["resolved_at"], "kind": "resolved",
                 "actor": row["resolved_by"], "message_id": None}
            )  # fmt: skip

    active: dict[str, list] = {}
    for row in rows:
        if row["status"] in ("open", "acknowledged"):
            active.setdefault(row["conversation_id"], []).append(row)
    for group in active.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda r: (SEVERITY_ORDER.get(r["severity"], 9), r["created_at"], r["id"]))
        keep, *others = group
        categories = list(keep["categories"] or [])
        for other in others:
            categories += [c for c in other["categories"] or [] if c not in categories]
            moment = other["created_at"]
            bind.execute(
                alerts.update()
                .where(alerts.c.id == other["id"])
                .values(
                    status="resolved",
                    resolved_at=moment,
                    resolved_by="system",
                    note=f"merged into alert {keep['id']} (one alert per conversation)",
                )
            )
            history.append(
                {"alert_id": other["id"], "at": moment, "kind": "merged", "actor": "system",
                 "severity": other["severity"], "level": other["level"],
                 "categories": other["categories"] or [], "message_id": None}
            )  # fmt: skip
        bind.execute(alerts.update().where(alerts.c.id == keep["id"]).values(categories=categories))
    if history:
        bind.execute(events.insert(), history)
    op.create_index(
        "ux_alerts_one_active",
        "alerts",
        ["conversation_id"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )


def downgrade() -> None:
    op.drop_index("ux_alerts_one_active", table_name="alerts")
    op.drop_index("ix_alert_events_alert", table_name="alert_events")
    op.drop_table("alert_events")
    op.get_bind().execute(
        sa.text(
            "UPDATE conversations SET sender_id = substr(sender_id, 6) "
            "WHERE channel = 'rest' AND sender_id LIKE 'rest:%'"
        )
    )
