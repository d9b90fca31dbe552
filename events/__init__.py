"""Adapters to NATS: publishing the events a change writes to its outbox, and consuming events.

An adapter may use ``domain`` and ``db`` but never ``graph`` or ``resolvers`` (import-linter
contract in pyproject.toml), so a worker process can run it without the GraphQL server.
"""
