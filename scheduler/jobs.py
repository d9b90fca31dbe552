"""Every area's jobs: importing an area's job module registers them (one line per area)."""

from __future__ import annotations

from scheduler import badges, files

AREAS = (badges, files)
"""The modules whose ``register(Job(...))`` lines ran; listed so no import looks unused."""
