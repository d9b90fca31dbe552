"""Adapters to Matrix: the rooms and accounts behind a community's or group's chat.

An adapter may use ``domain`` and ``db`` but never ``graph`` or ``resolvers`` (import-linter
contract in pyproject.toml), so a worker process can run it without the GraphQL server.
"""
