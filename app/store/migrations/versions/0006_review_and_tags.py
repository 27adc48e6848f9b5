"""conversation review (needs_review, reviewed_at, reviewed_by) and tags

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(
            sa.Column("needs_review", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(length=64), nullable=True))
    op.create_table(
        "conversation_tags",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("conversation_id", "tag"),
    )
    op.create_index("ix_conversation_tags_tag", "conversation_tags", ["tag"])


def downgrade() -> None:
    op.drop_index("ix_conversation_tags_tag", table_name="conversation_tags")
    op.drop_table("conversation_tags")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("reviewed_by")
        batch.drop_column("reviewed_at")
        batch.drop_column("needs_review")
