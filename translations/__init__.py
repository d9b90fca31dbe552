"""Adapters to machine-translation providers, one module per provider behind one interface.

An adapter may use ``domain`` and ``db`` but never ``graph`` or ``resolvers`` (import-linter
contract in pyproject.toml), so a worker process can run it without the GraphQL server.
"""
