"""The store: SQLAlchemy tables, the queries on them and the Alembic migrations.

Only briefing.services imports it (an import-linter contract in scripts/check says so)."""
