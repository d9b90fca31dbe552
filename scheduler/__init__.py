"""The scheduler: periodic jobs (badge expiry, renewal notices, automatic-award sweeps, and what
other areas register), run inside ``unityplan serve`` or alone as ``unityplan scheduler``.

An adapter like ``events/``: it uses ``domain/`` and ``db/``, never ``graph/``. Every job is an
idempotent claim (a conditional UPDATE or an INSERT ... ON CONFLICT DO NOTHING committed with its
outbox events), so any number of replicas may run it at once without doubling anything, and a job
that was not run for a while catches up on its next run.
"""
