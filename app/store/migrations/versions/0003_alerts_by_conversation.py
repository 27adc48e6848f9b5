"""index alerts by conversation (the dashboard's alert-status filter)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_alerts_conversation", "alerts", ["conversation_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_alerts_conversation", table_name="alerts")
