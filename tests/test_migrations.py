"""The schema only changes through Alembic: migrating to head gives exactly the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from app.store.db import upgrade
from app.store.models import Base


def test_migrations_match_the_models(tmp_path):
    upgrade(f"sqlite+aiosqlite:///{tmp_path}/schema.db")  # migrations run on the async driver
    engine = create_engine(f"sqlite:///{tmp_path}/schema.db")
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_0004_merges_active_alerts_and_moves_rest_senders(tmp_path):
    """Data written by 0003 survives: REST senders get their namespace, a conversation's
    several active alerts become one (the most severe), and every alert has a history."""
    url = f"sqlite+aiosqlite:///{tmp_path}/data.db"
    upgrade(url, "0003")
    engine = create_engine(f"sqlite:///{tmp_path}/data.db")
    when = "2026-11-30 10:00:00"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO conversations (id, sender_id, channel, lang, level, slots, alerted,"
                " message_count, created_at, version) VALUES"
                " ('c1', 'alice', 'rest', 'en', 'emergency', '{}', '[]', 0, :when, 1),"
                " ('c2', 'widget:c2', 'widget', 'en', 'urgent', '{}', '[]', 0, :when, 1)"
            ),
            {"when": when},
        )
        for conversation, severity, status, categories in [
            ("c1", "high", "acknowledged", '["allergic_reaction"]'),
            ("c1", "critical", "open", '["infusion_reaction"]'),
            ("c1", "high", "resolved", '["liver"]'),
            ("c2", "high", "open", '["liver"]'),
        ]:
            connection.execute(
                text(
                    "INSERT INTO alerts (conversation_id, severity, reason, level, categories,"
                    " status, created_at, delivery_status, delivery_attempts) VALUES"
                    " (:c, :s, 'urgent', 'urgent', :cat, :st, :when, 'delivered', 1)"
                ),
                {"c": conversation, "s": severity, "st": status, "cat": categories, "when": when},
            )
    upgrade(url)
    with engine.connect() as connection:
        senders = dict(connection.execute(text("SELECT id, sender_id FROM conversations")).all())
        alerts = connection.execute(
            text("SELECT conversation_id, severity, status, categories FROM alerts ORDER BY id")
        ).all()
        kinds = connection.execute(text("SELECT kind FROM alert_events ORDER BY id")).all()
        with pytest.raises(IntegrityError):  # one active alert per conversation, enforced
            connection.execute(
                text(
                    "INSERT INTO alerts (conversation_id, severity, reason, level, categories,"
                    " status, created_at, delivery_status, delivery_attempts) VALUES"
                    " ('c2', 'high', 'urgent', 'urgent', '[]', 'open', :when, 'pending', 0)"
                ),
                {"when": when},
            )
    engine.dispose()
    assert senders == {"c1": "rest:alice", "c2": "widget:c2"}
    active = [a for a in alerts if a.status in ("open", "acknowledged")]
    assert [(a.conversation_id, a.severity) for a in active] == [("c1", "critical"), ("c2", "high")]
    assert "allergic_reaction" in active[0].categories  # the merged alert's signs are kept
    assert [k for (k,) in kinds].count("raised") == 4 and ("merged",) in kinds
