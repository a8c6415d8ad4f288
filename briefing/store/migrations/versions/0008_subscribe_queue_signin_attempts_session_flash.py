"""the web app's queue of subscribe requests, the record of desk sign-ins, and the
session's one-time message (Step 7)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import briefing.store.schema

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscribe_queue",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", briefing.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", briefing.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", briefing.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", briefing.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_subscribe_queue_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscribe_queue")),
    )
    with op.batch_alter_table("subscribe_queue", schema=None) as batch_op:
        batch_op.create_index("ix_subscribe_queue_state_due", ["state", "due_at"], unique=False)
        batch_op.create_index("ix_subscribe_queue_subscriber", ["subscriber_id"], unique=False)

    op.create_table(
        "signin_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", briefing.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["editor_id"],
            ["editors.id"],
            name=op.f("fk_signin_attempts_editor_id_editors"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_attempts")),
    )
    with op.batch_alter_table("signin_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_signin_attempts_at", ["at"], unique=False)
        batch_op.create_index("ix_signin_attempts_email_at", ["email", "at"], unique=False)

    with op.batch_alter_table("editor_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flash", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("editor_sessions", schema=None) as batch_op:
        batch_op.drop_column("flash")
    with op.batch_alter_table("signin_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_signin_attempts_email_at")
        batch_op.drop_index("ix_signin_attempts_at")
    op.drop_table("signin_attempts")
    with op.batch_alter_table("subscribe_queue", schema=None) as batch_op:
        batch_op.drop_index("ix_subscribe_queue_subscriber")
        batch_op.drop_index("ix_subscribe_queue_state_due")
    op.drop_table("subscribe_queue")
