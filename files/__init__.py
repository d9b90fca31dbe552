"""Adapters to IPFS: storing and fetching the content behind a file's content id (CID).

An adapter may use ``domain`` and ``db`` but never ``graph`` or ``resolvers`` (import-linter
contract in pyproject.toml), so a worker process can run it without the GraphQL server.
"""
