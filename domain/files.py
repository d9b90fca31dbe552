"""File rules: which types may be stored, how large, for what purpose, and who may read them.

The type of an upload is what its bytes are (files/detect.py reads the magic numbers), never its
name or the client's ``Content-Type``: a renamed executable is refused whatever it claims. Limits
are per kind, from settings; an upload breaking any rule is refused with its own code and leaves
nothing behind (no row, no pin, no temporary file).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import BadUserInput, Unavailable, UserFacingError

MB = 1_000_000


class FileKind(StrEnum):
    """A family of types sharing one size limit."""

    IMAGE = "image"
    DOCUMENT = "document"
    VIDEO = "video"
    ARCHIVE = "archive"


# The accepted media types (as files/detect.py names them) and their kind. Anything else is
# refused: FILE_TYPE_NOT_ALLOWED.
MEDIA_TYPES: Mapping[str, FileKind] = {
    "image/jpeg": FileKind.IMAGE,
    "image/png": FileKind.IMAGE,
    "image/gif": FileKind.IMAGE,
    "image/webp": FileKind.IMAGE,
    "application/pdf": FileKind.DOCUMENT,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": FileKind.DOCUMENT,
    "text/plain": FileKind.DOCUMENT,
    "video/mp4": FileKind.VIDEO,
    "video/webm": FileKind.VIDEO,
    "application/zip": FileKind.ARCHIVE,
}

DEFAULT_LIMITS: Mapping[FileKind, int] = {
    FileKind.IMAGE: 10 * MB,
    FileKind.DOCUMENT: 50 * MB,
    FileKind.VIDEO: 500 * MB,
    FileKind.ARCHIVE: 100 * MB,
}

EXTENSIONS: Mapping[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/plain": "txt",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "application/zip": "zip",
}


class FilePurpose(StrEnum):
    """What a file is for; it decides which kinds are accepted."""

    AVATAR = "avatar"
    COURSE_MATERIAL = "course_material"
    ATTACHMENT = "attachment"


PURPOSE_KINDS: Mapping[FilePurpose, frozenset[FileKind]] = {
    FilePurpose.AVATAR: frozenset({FileKind.IMAGE}),
    FilePurpose.COURSE_MATERIAL: frozenset(FileKind),
    FilePurpose.ATTACHMENT: frozenset(FileKind),
}


# --- errors: each refusal has its own code.


class FileEmpty(UserFacingError):
    code = "FILE_EMPTY"


class FileTooLarge(UserFacingError):
    code = "FILE_TOO_LARGE"


class FileTypeNotAllowed(UserFacingError):
    code = "FILE_TYPE_NOT_ALLOWED"


class UploadIncomplete(UserFacingError):
    """The multipart body ended before its closing boundary (a truncated upload)."""

    code = "UPLOAD_INCOMPLETE"


class StorageQuotaExceeded(UserFacingError):
    code = "STORAGE_QUOTA_EXCEEDED"


class StorageUnavailable(Unavailable):
    """The IPFS node did not answer within its timeout, or failed."""

    code = "STORAGE_UNAVAILABLE"


class ImageRejected(UserFacingError):
    """An image Pillow cannot decode safely: corrupt, truncated, or a decompression bomb."""

    code = "IMAGE_REJECTED"


@dataclass(frozen=True, slots=True)
class FileLimits:
    """Byte limits per kind (settings ``FILE_MAX_*_BYTES``)."""

    per_kind: Mapping[FileKind, int]

    @property
    def largest(self) -> int:
        return max(self.per_kind.values())

    def of(self, media_type: str) -> int:
        return self.per_kind[kind_of(media_type)]


def kind_of(media_type: str) -> FileKind:
    """The kind of an accepted media type; FILE_TYPE_NOT_ALLOWED for any other."""
    kind = MEDIA_TYPES.get(media_type)
    if kind is None:
        raise FileTypeNotAllowed(
            f"Files of type {media_type} are not accepted; accepted: "
            + ", ".join(sorted(MEDIA_TYPES))
            + "."
        )
    return kind


def check_size(media_type: str, size: int, limits: FileLimits) -> None:
    """Refuse an empty file, or one over its kind's limit."""
    if size <= 0:
        raise FileEmpty("The file is empty.")
    limit = limits.of(media_type)
    if size > limit:
        raise FileTooLarge(f"A {kind_of(media_type)} file may have at most {limit} bytes.")


def check_purpose(purpose: FilePurpose, media_type: str) -> None:
    """Refuse a kind the purpose does not take (an avatar is an image)."""
    if kind_of(media_type) not in PURPOSE_KINDS[purpose]:
        raise FileTypeNotAllowed(
            f"A file for {purpose.value} must be one of: "
            + ", ".join(sorted(k.value for k in PURPOSE_KINDS[purpose]))
            + ".",
            field="purpose",
        )


def check_quota(used: int, adding: int, quota: int, whose: str) -> None:
    """Refuse a file that would take ``whose`` storage past ``quota`` bytes (0: no quota)."""
    if quota and used + adding > quota:
        raise StorageQuotaExceeded(
            f"This file would take {whose} storage past its quota of {quota} bytes ({used} used)."
        )


def file_readable(*, is_owner: bool, reference_visible: bool) -> bool:
    """A file is readable by its owner, and by whoever may see an object referencing it (an
    avatar: whoever the profile shows its avatar). Unreferenced files stay private."""
    return is_owner or reference_visible


_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_filename(name: str | None, media_type: str) -> str:
    """A name for ``Content-Disposition``: ASCII letters, digits, ``._ -`` only, at most 100
    characters, with the extension of the detected type (never the client's)."""
    stem = unicodedata.normalize("NFKD", (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    stem = _UNSAFE.sub("_", stem.encode("ascii", "ignore").decode()).strip(" ._")[:100]
    return f"{stem or 'file'}.{EXTENSIONS[media_type]}"


_FILE_REFERENCE = re.compile(
    r"(?:ipfs://[A-Za-z0-9]{46,100}|file:[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})"
)


def validate_file_reference(value: str) -> str:
    """``file:<uuid>`` (a stored File) or ``ipfs://<CID>``, never a web address: an image that
    points elsewhere would tell a third party who looked at it, and when."""
    ref = value.strip()
    if _FILE_REFERENCE.fullmatch(ref) is None:
        raise BadUserInput("An image is a file reference: 'file:<uuid>' or 'ipfs://<CID>'.")
    return ref
