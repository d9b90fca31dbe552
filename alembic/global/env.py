"""Alembic environment of the ``global`` tree; run through ``db.migrate`` with a live connection."""

from alembic import context
from db.models import GLOBAL_SCHEMA, global_metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=global_metadata,
    version_table_schema=GLOBAL_SCHEMA,
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
