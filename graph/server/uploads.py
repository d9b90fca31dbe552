"""GraphQL multipart requests (the graphql-multipart-request spec), streamed to disk.

A body is ``operations`` (the JSON request), ``map`` (which variable each file fills) and the
files, in that order. Why not Starlette's form parser or Strawberry's: both read the whole body
before anything is checked, and neither knows our limits. Here each chunk is parsed as it
arrives (python-multipart's streaming parser): a file part goes to a temporary file under
``UPLOAD_TEMP_DIR`` and into a running CID (files/cids.py); its type is read from its first bytes
(files/detect.py) and its kind's size limit applies while it streams, so a 2 GB "image" is cut
off at 10 MB, and a type that is not accepted at the first 64 KiB. The whole file is checked
again at its end (type and size). Refusals, each with its code:

* ``FILE_EMPTY`` (400), ``FILE_TOO_LARGE`` (413), ``FILE_TYPE_NOT_ALLOWED`` (415);
* ``UPLOAD_INCOMPLETE`` (400): the body ended (or the client left) before the closing boundary;
* ``BAD_REQUEST`` (400): parts out of order, a map naming no file or a file no map names, more
  files than ``UPLOAD_MAX_FILES``, ``operations``/``map`` that are not JSON or over
  ``MAX_BODY_BYTES``.

On any refusal every temporary file already written is deleted before the error leaves.
"""

from __future__ import annotations

import gc
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

import orjson
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from domain.errors import UserFacingError
from domain.files import (
    FileEmpty,
    FileLimits,
    FileTooLarge,
    FileTypeNotAllowed,
    UploadIncomplete,
    check_size,
    kind_of,
)
from files.cids import CidBuilder
from files.detect import HEAD_BYTES, media_type_of, media_type_of_file
from files.uploads import ReceivedFile, remove

# python-multipart's parser leaves each chunk it is given in a reference cycle (the closures its
# ``write`` defines hold the chunk), which only the cyclic collector frees. Serving raises the
# generation-0 threshold (GC_GEN0_THRESHOLD, graph/server/runtime.py), so that came seldom and a
# 500 MB upload stayed in memory whole (160 MB of RSS growth measured by benchmarks/files.py).
# Collecting the young generation after every COLLECT_EVERY bytes bounds what is held.
COLLECT_EVERY = 4 << 20

STATUS = {
    FileEmpty.code: 400,
    FileTooLarge.code: 413,
    FileTypeNotAllowed.code: 415,
    UploadIncomplete.code: 400,
}


class UploadRefused(Exception):
    """A multipart request refused before execution (graph/server/transport.py renders it)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _refused(error: UserFacingError) -> UploadRefused:
    return UploadRefused(STATUS.get(error.code, 400), error.code, str(error))


def _bad(message: str) -> UploadRefused:
    return UploadRefused(400, "BAD_REQUEST", message)


@dataclass(frozen=True, slots=True)
class UploadLimits:
    files: FileLimits
    max_files: int
    max_field_bytes: int
    temp_dir: str


@dataclass
class _FilePart:
    name: str
    filename: str | None
    path: str
    handle: Any
    cid: CidBuilder = field(default_factory=CidBuilder)
    head: bytearray = field(default_factory=bytearray)
    limit: int | None = None  # set once the first bytes gave a type


@dataclass
class _Receiver:
    limits: UploadLimits
    fields: dict[str, bytearray] = field(default_factory=dict)
    files: dict[str, ReceivedFile] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: dict[str, bytes] = field(default_factory=dict)
    field_name: str | None = None
    part: _FilePart | None = None
    ended: bool = False

    # --- python-multipart callbacks (synchronous; an exception stops the parse).

    def on_part_begin(self) -> None:
        self.headers = {}
        self.field_name, self.part = None, None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[bytes(self.header_field).decode("latin-1").lower()] = bytes(self.header_value)
        self.header_field.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get("content-disposition"))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if name in ("operations", "map"):
            if filename is not None or name in self.fields:
                raise _bad(f"`{name}` must be one form field, given once.")
            if name == "map" and "operations" not in self.fields:
                raise _bad("`operations` must come before `map`.")
            self.fields[name] = bytearray()
            self.field_name = name
            return
        if "map" not in self.fields:
            raise _bad("Files must come after `operations` and `map`.")
        if name in self.files or (self.part is not None and self.part.name == name):
            raise _bad(f"File `{name}` is given twice.")
        if len(self.files) >= self.limits.max_files:
            raise _bad(f"At most {self.limits.max_files} file(s) per request.")
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in on_part_end or cleanup)
            dir=self.limits.temp_dir, prefix="upload-", delete=False
        )
        self.paths.append(handle.name)
        self.part = _FilePart(
            name,
            None if filename is None else filename.decode("utf-8", "replace"),
            handle.name,
            handle,
        )

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.field_name is not None:
            buffer = self.fields[self.field_name]
            buffer += chunk
            if len(buffer) > self.limits.max_field_bytes:
                raise UploadRefused(
                    413, "PAYLOAD_TOO_LARGE", f"`{self.field_name}` exceeds its size limit."
                )
            return
        part = self.part
        if part is None:
            raise _bad("A part without a name.")
        part.handle.write(chunk)
        part.cid.update(chunk)
        if part.limit is None:
            part.head += chunk
            if len(part.head) >= HEAD_BYTES:
                self._typed(part)
        if part.limit is not None and part.cid.size > part.limit:
            raise _refused(FileTooLarge(f"The file is larger than {part.limit} bytes."))

    def _typed(self, part: _FilePart) -> None:
        """The first bytes name a type: refuse it, or apply its limit from now on."""
        try:
            part.limit = self.limits.files.of(media_type_of(bytes(part.head)))
        except FileTypeNotAllowed as error:
            raise _refused(error) from None
        part.head = bytearray()

    def on_part_end(self) -> None:
        part, self.part = self.part, None
        self.field_name = None
        if part is None:
            return
        part.handle.close()
        if part.cid.size == 0:
            raise _refused(FileEmpty("The file is empty."))
        if part.limit is None:
            self._typed(part)
        media_type = media_type_of_file(part.path)
        try:
            kind_of(media_type)
            check_size(media_type, part.cid.size, self.limits.files)
        except UserFacingError as error:
            raise _refused(error) from None
        self.files[part.name] = ReceivedFile(
            part.path, part.cid.size, media_type, part.cid.cid(), part.filename
        )

    def on_end(self) -> None:
        self.ended = True

    def close(self) -> None:
        if self.part is not None:
            self.part.handle.close()


def _json_field(receiver: _Receiver, name: str) -> Any:
    raw = receiver.fields.get(name)
    if raw is None:
        raise _bad(f"The multipart request has no `{name}` field.")
    try:
        return orjson.loads(bytes(raw))
    except orjson.JSONDecodeError:
        raise _bad(f"`{name}` is not valid JSON.") from None


def _place(operations: Any, path: str, value: ReceivedFile) -> None:
    """Put ``value`` at a map path such as ``variables.file`` or ``0.variables.files.1``."""
    keys = path.split(".")
    target = operations
    try:
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        last = keys[-1]
        if isinstance(target, list):
            if target[int(last)] is not None:
                raise _bad(f"The map path `{path}` does not name a null variable.")
            target[int(last)] = value
        else:
            if target.get(last, None) is not None:
                raise _bad(f"The map path `{path}` does not name a null variable.")
            target[last] = value
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        raise _bad(f"The map path `{path}` names nothing in `operations`.") from None


async def receive(request: Request, boundary: bytes, limits: UploadLimits) -> tuple[Any, list[str]]:
    """The operations of a multipart request with its files in place, and the temporary files'
    paths (the caller deletes them when the request ends). Raises ``UploadRefused``."""
    os.makedirs(limits.temp_dir, exist_ok=True)
    receiver = _Receiver(limits)
    callbacks: Any = {
        name: getattr(receiver, name)
        for name in (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
            "on_end",
        )
    }
    parser = MultipartParser(boundary, callbacks)
    try:
        try:
            since_collect = 0
            async for chunk in request.stream():
                parser.write(chunk)
                since_collect += len(chunk)
                if since_collect >= COLLECT_EVERY:
                    gc.collect(0)
                    since_collect = 0
                if receiver.ended:
                    break
        except ClientDisconnect:
            raise _refused(UploadIncomplete("The client left before the upload ended.")) from None
        except MultipartParseError:
            raise _bad("The multipart body is malformed.") from None
        if not receiver.ended:
            raise _refused(UploadIncomplete("The body ended before its closing boundary."))
        operations = _json_field(receiver, "operations")
        mapping = _json_field(receiver, "map")
        if not isinstance(mapping, dict) or not all(
            isinstance(v, list) and all(isinstance(p, str) for p in v) for v in mapping.values()
        ):
            raise _bad("`map` must be an object of lists of paths.")
        if set(mapping) != set(receiver.files):
            raise _bad("`map` and the file parts must name the same files.")
        for name, paths in mapping.items():
            for path in paths:
                _place(operations, path, receiver.files[name])
    except BaseException:
        receiver.close()
        remove(receiver.paths)
        raise
    return operations, receiver.paths
