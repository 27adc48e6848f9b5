"""The schema only changes through Alembic: migrating to head gives exactly the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from app.store.db import upgrade
from app.store.models import Base


def test_migrations_match_the_models(tmp_path):
    upgrade(f"sqlite+aiosqlite:///{tmp_path}/schema.db")  # migrations run on the async driver
    engine = create_engine(f"sqlite:///{tmp_path}/schema.db")
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []
