"""coordinator roles: coordinator or admin

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

Existing accounts stay coordinators; `triagebot coordinator role NAME admin` makes one an
admin (who then manages the others in the dashboard).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("coordinators") as batch:
        batch.add_column(
            sa.Column(
                "role",
                sa.String(length=16),
                server_default=sa.text("'coordinator'"),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("coordinators") as batch:
        batch.drop_column("role")
