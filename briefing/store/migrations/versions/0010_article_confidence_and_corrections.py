"""article confidence and extraction, and editors' corrections of article fields

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-09 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import briefing.store.schema

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # rows stored before keep NULL until their source is read again (ingest fills them)
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("confidence", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("extraction", sa.JSON(), nullable=True))
    op.create_table(
        "article_corrections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("previous", sa.JSON(), nullable=True),
        sa.Column("by", sa.Text(), nullable=False),
        sa.Column("at", briefing.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_corrections_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_corrections")),
    )
    op.create_index(
        "ix_article_corrections_article", "article_corrections", ["article_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_article_corrections_article", table_name="article_corrections")
    op.drop_table("article_corrections")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("extraction")
        batch.drop_column("confidence")
