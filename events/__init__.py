"""Events adapter: the outbox relay to NATS JetStream, the stream's set-up, the in-process fan-out
to subscribers, and the AsyncAPI document. Imports db/ and domain/ only (never graph/ or
resolvers/): the API calls into it, and ``unityplan relay`` runs the relay without the API."""
