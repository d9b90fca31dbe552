"""The media type of an upload, from its bytes (libmagic through python-magic).

Why libmagic: it is the reference magic-number database (``file(1)``), maintained for decades and
shipped by every distribution (Debian's ``libmagic1``, installed by scripts/system-deps.sh), and it
tells apart what the pure-Python detectors cannot: plain text (no magic number at all) and a DOCX
from any other ZIP (by its first entries). The client's file name and ``Content-Type`` are never
consulted.
"""

from __future__ import annotations

import magic

# Enough of a file's start for every accepted type: libmagic finds a DOCX by the names of the
# first ZIP entries, which come within the first few KiB.
HEAD_BYTES = 65_536


def media_type_of(head: bytes) -> str:
    """The media type libmagic gives a file's first bytes (``application/x-empty``: none)."""
    return str(magic.from_buffer(head, mime=True))


def media_type_of_file(path: str) -> str:
    """The media type libmagic gives a whole file (it reads what it needs from the start)."""
    return str(magic.from_file(path, mime=True))
