"""Alembic environment of the territory template, applied to one ``territory_<id>`` schema per run.

The runner hands over a connection whose ``schema_translate_map`` renders the placeholder schema
``territory`` as the real one; the version table lives in that schema too.
"""

from alembic import context
from db.models import territory_metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=territory_metadata,
    version_table_schema=context.config.attributes["schema"],
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
