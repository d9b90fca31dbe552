"""Pure rules of the files area: kinds and limits, purposes, quotas, safe names, readability,
local CIDs (against fixed vectors the node gave) and byte ranges."""

from __future__ import annotations

import pytest

from domain.errors import UserFacingError
from domain.files import (
    DEFAULT_LIMITS,
    FileKind,
    FileLimits,
    FilePurpose,
    check_purpose,
    check_quota,
    check_size,
    file_readable,
    kind_of,
    safe_filename,
)
from files.cids import CHUNK_SIZE, CidBuilder, InvalidCid, normalise
from graph.server.files import Unsatisfiable, byte_range

LIMITS = FileLimits(DEFAULT_LIMITS)


def code(call: object, *args: object) -> str | None:
    try:
        call(*args)  # type: ignore[operator]
    except UserFacingError as error:
        return error.code
    return None


@pytest.mark.parametrize(
    ("media_type", "limit"),
    [
        ("image/jpeg", 10_000_000),
        ("image/webp", 10_000_000),
        ("application/pdf", 50_000_000),
        ("text/plain", 50_000_000),
        ("video/webm", 500_000_000),
        ("application/zip", 100_000_000),
    ],
)
def test_each_kind_has_its_limit(media_type: str, limit: int) -> None:
    assert code(check_size, media_type, limit, LIMITS) is None
    assert code(check_size, media_type, limit + 1, LIMITS) == "FILE_TOO_LARGE"
    assert code(check_size, media_type, 1, LIMITS) is None
    assert code(check_size, media_type, 0, LIMITS) == "FILE_EMPTY"


@pytest.mark.parametrize(
    "media_type", ["text/html", "image/svg+xml", "application/x-dosexec", "text/csv", ""]
)
def test_other_types_are_not_allowed(media_type: str) -> None:
    assert code(kind_of, media_type) == "FILE_TYPE_NOT_ALLOWED"


def test_an_avatar_is_an_image() -> None:
    assert code(check_purpose, FilePurpose.AVATAR, "image/gif") is None
    assert code(check_purpose, FilePurpose.AVATAR, "video/mp4") == "FILE_TYPE_NOT_ALLOWED"
    assert code(check_purpose, FilePurpose.ATTACHMENT, "video/mp4") is None
    assert LIMITS.largest == DEFAULT_LIMITS[FileKind.VIDEO]


def test_quotas() -> None:
    assert code(check_quota, 90, 10, 100, "your") is None
    assert code(check_quota, 90, 11, 100, "your") == "STORAGE_QUOTA_EXCEEDED"
    assert code(check_quota, 10**12, 1, 0, "your") is None  # 0: no quota


@pytest.mark.parametrize(
    ("name", "media_type", "safe"),
    [
        ("Holiday photo.JPG", "image/jpeg", "Holiday photo.jpg"),
        ("../../etc/passwd", "text/plain", "passwd.txt"),
        ('a"b\r\nX-Evil: 1.png', "image/png", "a_b_X-Evil_ 1.png"),
        ("évènement.pdf", "application/pdf", "evenement.pdf"),
        ("C:\\Users\\me\\cv.docx", "application/zip", "cv.zip"),
        (None, "video/mp4", "file.mp4"),
        ("...", "text/plain", "file.txt"),
    ],
)
def test_safe_filenames(name: str | None, media_type: str, safe: str) -> None:
    assert safe_filename(name, media_type) == safe


def test_readability() -> None:
    assert file_readable(is_owner=True, reference_visible=False)
    assert file_readable(is_owner=False, reference_visible=True)
    assert not file_readable(is_owner=False, reference_visible=False)


# CIDs js-ipfs 0.66 returned for `add --cid-version=1` of these bytes (tests/files/test_cids.py
# compares random bytes with the running node's answer).
@pytest.mark.parametrize(
    ("data", "cid"),
    [
        (b"hello", "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"),
        (bytes(CHUNK_SIZE), "bafkreiekhhjkxu4ztk3tyng3er3ijhg56mb44oe3gwbgquhzu4afrg2ksa"),
        (bytes(CHUNK_SIZE + 1), "bafybeigllfqgfpqydppr6cmv56g7ax4wyhruzswvcefv6j5kj77nzttfki"),
        # 175 chunks: two levels of the balanced DAG (174 links per node at most)
        (
            bytes(174 * CHUNK_SIZE + 1),
            "bafybeihqwzd3o6q6v3pmwhzjy22vokhr767burokmqemg63hptx2nqd7ym",
        ),
    ],
)
def test_local_cids(data: bytes, cid: str) -> None:
    builder = CidBuilder()
    for i in range(0, len(data), 1_000_000):
        builder.update(data[i : i + 1_000_000])
    assert builder.cid() == cid
    assert builder.size == len(data)


def test_cids_are_normalised_to_v1_base32() -> None:
    v0 = "QmPZ9gcCEpqKTo6aq61g2nXGUhM4iCL3ewB6LDXZCtioEB"
    v1 = "bafybeiasb5vpmaounyilfuxbd3lryvosl4yefqrfahsb2esg46q6tu6y5q"
    assert normalise(v0) == v1
    assert normalise(v1) == v1
    assert normalise("zdj7WYGYiJJBqdUpAFN9Ap2kY2bqadoQ9Y3fqstm82QTDMUS7").startswith("baf")
    for bad in ("", "not a cid", "bafy"):
        with pytest.raises(InvalidCid):
            normalise(bad)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-0", (0, 0)),
        ("bytes=10-19", (10, 19)),
        ("bytes=90-", (90, 99)),
        ("bytes=90-500", (90, 99)),
        ("bytes=-5", (95, 99)),
        ("bytes=-500", (0, 99)),
    ],
)
def test_byte_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, 100) == expected


@pytest.mark.parametrize(
    "header", ["bytes=100-", "bytes=20-10", "bytes=-0", "bytes=-", "items=0-1", "bytes=0-1,5-6"]
)
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(Unsatisfiable):
        byte_range(header, 100)
