"""Content ids: normalising what a node prints, and computing them locally from the bytes.

Why compute them here: the node's answer to ``add`` is then *checked*, not believed. A file is
hashed while it streams in (one SHA-256 per 256 KiB chunk, no second read), and the CID the node
returns must equal the one these bytes give. The layout is the one Kubo and js-ipfs both use for
``add --cid-version=1`` (which implies ``--raw-leaves``): fixed 262,144-byte chunks stored as raw
blocks, combined by a balanced DAG of UnixFS ``File`` nodes with at most 174 links each (dag-pb,
links encoded before data); a file of one chunk is the raw leaf itself. tests/files compare this
with the node's own answer across the layout's edges (one chunk, two, 175).

Why normalise: js-ipfs prints CIDv1 in base58btc, Kubo in base32, and a CIDv0 (``Qm…``) names
the same content as its CIDv1 dag-pb form. Every CID stored or compared is CIDv1 base32
(``bafy…``/``bafk…``), the form that is also safe in a URL path and a subdomain.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from multiformats import CID, multihash

CHUNK_SIZE = 262_144
MAX_LINKS = 174
_RAW = "raw"
_DAG_PB = "dag-pb"


class InvalidCid(ValueError):
    """Text that is not a CID, or a CID of a codec files never have."""


def normalise(text: str) -> str:
    """``text`` as CIDv1 base32; ``InvalidCid`` if it is not a raw or dag-pb CID."""
    try:
        cid = CID.decode(text.strip())
    except (ValueError, KeyError) as error:
        raise InvalidCid(f"not a CID: {text[:80]!r}") from error
    if cid.codec.name not in (_RAW, _DAG_PB):
        raise InvalidCid(f"a CID of codec {cid.codec.name}, not of a file")
    return str(cid.set(version=1, base="base32"))


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _uint(number: int, value: int) -> bytes:
    """A varint protobuf field."""
    return _varint(number << 3) + _varint(value)


@dataclass(frozen=True, slots=True)
class _Node:
    cid: bytes  # binary CID
    tsize: int  # the block's size plus its descendants'
    filesize: int  # bytes of file content under it


def _parent(children: list[_Node]) -> _Node:
    """A UnixFS File node over ``children`` (dag-pb: Links, then Data)."""
    unixfs = _uint(1, 2) + _uint(3, sum(c.filesize for c in children))
    unixfs += b"".join(_uint(4, c.filesize) for c in children)
    links = b"".join(
        _field(2, _field(1, c.cid) + _field(2, b"") + _uint(3, c.tsize)) for c in children
    )
    block = links + _field(1, unixfs)
    cid = CID("base32", 1, _DAG_PB, multihash.digest(block, "sha2-256"))
    filesize = sum(c.filesize for c in children)
    return _Node(bytes(cid), len(block) + sum(c.tsize for c in children), filesize)


@dataclass
class CidBuilder:
    """Feed a file's bytes in any pieces; ``cid()`` is the CIDv1 a node gives the same bytes."""

    _pending: bytearray = field(default_factory=bytearray)
    _leaves: list[_Node] = field(default_factory=list)
    size: int = 0

    def update(self, data: bytes) -> None:
        self.size += len(data)
        self._pending.extend(data)
        while len(self._pending) >= CHUNK_SIZE:
            self._leaf(bytes(self._pending[:CHUNK_SIZE]))
            del self._pending[:CHUNK_SIZE]

    def _leaf(self, chunk: bytes) -> None:
        digest = multihash.wrap(hashlib.sha256(chunk).digest(), "sha2-256")
        self._leaves.append(_Node(bytes(CID("base32", 1, _RAW, digest)), len(chunk), len(chunk)))

    def cid(self) -> str:
        """The root CID (CIDv1 base32) of everything fed so far; at least one byte is needed."""
        if self._pending or not self._leaves:
            self._leaf(bytes(self._pending))
            self._pending.clear()
        level = self._leaves
        if len(level) == 1:
            return str(CID.decode(level[0].cid).set(base="base32"))
        while len(level) > 1:
            level = [_parent(level[i : i + MAX_LINKS]) for i in range(0, len(level), MAX_LINKS)]
        return str(CID.decode(level[0].cid).set(base="base32"))
