"""The HTTP and WebSocket front door: the ASGI app, transport, authentication of requests, trusted
documents, rate and document limits, CSRF/CORS, GraphiQL and health probes.

Nothing is imported here: ``graph.context`` needs ``graph.server.auth`` while ``graph.server.app``
needs ``graph.context``, so importing the app from this package would make that a cycle.
"""
