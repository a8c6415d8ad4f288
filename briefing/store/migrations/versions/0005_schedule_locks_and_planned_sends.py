"""schedule: named locks, the planned send of an issue; send_runs' unused lock columns go

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import briefing.store.schema

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "locks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("until", briefing.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acquired_at", briefing.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_locks")),
    )
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "planned_for", briefing.store.schema.UTCDateTime(timezone=True), nullable=True
            )
        )
    with op.batch_alter_table("send_runs", schema=None) as batch_op:
        batch_op.drop_column("lock_until")
        batch_op.drop_column("lock_owner")


def downgrade() -> None:
    with op.batch_alter_table("send_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lock_owner", sa.String(length=96), nullable=True))
        batch_op.add_column(
            sa.Column("lock_until", briefing.store.schema.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.drop_column("planned_for")
    op.drop_table("locks")
