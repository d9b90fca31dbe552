"""An upload as the front door received it: on disk, measured, typed and content-addressed.

graph/server/uploads.py streams each file part of a multipart request into a temporary file
(never into memory), hashing it as it goes (files/cids.py); the resolver receives this object as
the ``Upload`` variable's value. The front door deletes every such file when the request ends,
whatever happened.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    path: str
    size: int
    # Detected from the bytes (files/detect.py); the client's Content-Type is ignored.
    media_type: str
    # CIDv1 base32 computed from the bytes while they arrived.
    cid: str
    # The client's file name, only ever used (made safe) for Content-Disposition.
    filename: str | None


def remove(paths: list[str]) -> None:
    """Delete temporary files; missing ones are fine (cleanup may run twice)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
