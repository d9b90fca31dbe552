"""``uploadFile`` and ``node`` on File ids.

An upload arrives on disk, typed and size-checked by the front door (graph/server/uploads.py).
Here: the purpose's rule, Pillow for images (files/images.py), the quota read, the IPFS add (each
CID checked against the one computed from the bytes), then ONE territory change recording the
rows and the ``file.uploaded`` event under the territory's storage lock (quota checked again
there). If anything fails after the add, the new pins are released (unless another row stores
the same bytes); a timeout or error of the node fails the upload with STORAGE_UNAVAILABLE and
records nothing.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.file_uploads import Upload

from db import files as file_db
from db.audit import AuditAction
from db.files import AVATAR_REFERENCE, NewFile
from domain.errors import BadUserInput, NotFound, Unavailable
from domain.events import FileUploaded
from domain.files import (
    FileKind,
    FilePurpose,
    FileTypeNotAllowed,
    check_purpose,
    check_quota,
    kind_of,
    safe_filename,
)
from files import images
from files.pins import release, repin
from files.storage import FileStorage
from files.uploads import ReceivedFile, remove
from graph import ids
from graph.context import Info
from graph.loaders.files import STORAGE_USAGE
from graph.permissions import IsAuthenticated
from graph.types.files import File, file_view
from graph.types.relay import Node
from resolvers.common import key_of, territory_change

log = logging.getLogger("unityplan.files")

REFUSALS = (
    "UNAUTHENTICATED unless signed in; FILE_EMPTY, FILE_TOO_LARGE (per type: images 10 MB, "
    "documents 50 MB, video 500 MB, ZIP 100 MB by default), FILE_TYPE_NOT_ALLOWED (the type is "
    "read from the bytes; for an avatar, anything but an image) and UPLOAD_INCOMPLETE come from "
    "the front door as HTTP errors before this runs; IMAGE_REJECTED for an image that cannot be "
    "decoded safely (corrupt, or more pixels than allowed); STORAGE_QUOTA_EXCEEDED past your or "
    "your territory's quota; STORAGE_UNAVAILABLE when the IPFS node does not answer in time. "
    "Nothing is stored on any refusal."
)


@strawberry.input(description="A file to store and what it is for.")
class UploadFileInput:
    file: Upload = strawberry.field(
        description="The file, sent as a GraphQL multipart request (the graphql-multipart-"
        "request spec: Apollo Upload Client, urql, `curl -F`), with a "
        "`GraphQL-Require-Preflight` header."
    )
    purpose: FilePurpose = strawberry.field(description="What it is for; avatars are images.")


@strawberry.type(description="The stored file.")
class UploadFilePayload:
    file: File = strawberry.field(description="The file, with its content id and URL.")
    already_stored: bool = strawberry.field(
        description="True when you had stored the same bytes for the same purpose before: that "
        "file is returned and nothing new is stored."
    )


@dataclass
class _Prepared:
    """What will be stored: the original (re-encoded if an image) and its variants."""

    original: NewFile
    path: str
    variants: list[tuple[NewFile, str]] = field(default_factory=list)
    temp: list[str] = field(default_factory=list)

    @property
    def cids(self) -> list[str]:
        return [self.original.cid, *(v.cid for v, _ in self.variants)]

    @property
    def size(self) -> int:
        return self.original.size + sum(v.size for v, _ in self.variants)


def _storage(info: Info) -> FileStorage:
    storage = info.context.storage
    if storage is None:
        raise Unavailable("File storage is not configured.")
    return storage


def _received(value: object) -> ReceivedFile:
    if not isinstance(value, ReceivedFile):
        raise BadUserInput(
            "Send the file as a GraphQL multipart request (graphql-multipart-request spec).",
            field="file",
        )
    return value


async def _prepare(storage: FileStorage, upload: ReceivedFile, purpose: FilePurpose) -> _Prepared:
    name = safe_filename(upload.filename, upload.media_type)
    if kind_of(upload.media_type) is not FileKind.IMAGE:
        new = NewFile(upload.cid, upload.media_type, upload.size, name)
        return _Prepared(new, upload.path)
    config = storage.config
    encoded = await asyncio.to_thread(
        images.reencode,
        upload.path,
        upload.media_type,
        max_pixels=config.image_max_pixels,
        max_side=config.image_max_side,
        temp_dir=config.temp_dir,
    )
    prepared = _Prepared(
        NewFile(encoded.cid, encoded.media_type, encoded.size, name, encoded.width, encoded.height),
        encoded.path,
        temp=[encoded.path],
    )
    if purpose is FilePurpose.AVATAR:
        try:
            variants = await asyncio.to_thread(
                images.avatar_variants,
                encoded.path,
                max_pixels=config.image_max_pixels,
                temp_dir=config.temp_dir,
            )
        except BaseException:
            remove(prepared.temp)
            raise
        prepared.temp += [v.path for v in variants]
        prepared.variants = [
            (
                NewFile(
                    v.cid,
                    v.media_type,
                    v.size,
                    safe_filename(f"{name.rsplit('.', 1)[0]}-{v.variant}", v.media_type),
                    v.width,
                    v.height,
                    v.variant,
                ),
                v.path,
            )
            for v in variants
        ]
    return prepared


async def _check_quota(
    info: Info, storage: FileStorage, tid: str, owner: uuid.UUID, n: int
) -> None:
    used, territory_used = await info.context.loaders.get(STORAGE_USAGE, tid).load(owner)
    check_quota(used, n, storage.config.quota_user, "your")
    check_quota(territory_used, n, storage.config.quota_territory, "your territory's")


async def _add(storage: FileStorage, prepared: _Prepared) -> None:
    """Add every file to IPFS; each CID must equal the one computed from the bytes."""
    for new, path in [(prepared.original, prepared.path), *prepared.variants]:
        cid = await storage.node.add(path, new.size)
        if cid != new.cid:
            log.error("IPFS returned %s for bytes whose CID is %s", cid, new.cid)
            raise Unavailable("File storage returned a wrong content id; nothing was stored.")


@strawberry.type
class FileMutations:
    @strawberry.mutation(
        description="Store a file on IPFS, pinned, with its metadata in your territory. "
        + REFUSALS,
        permission_classes=[IsAuthenticated],
    )
    async def upload_file(
        self,
        info: Info,
        input: Annotated[UploadFileInput, strawberry.argument(description="The file.")],
    ) -> UploadFilePayload:
        territory_id, owner = info.context.caller.account()
        storage = _storage(info)
        upload = _received(input.file)
        check_purpose(input.purpose, upload.media_type)
        prepared = await _prepare(storage, upload, input.purpose)
        added = False
        try:
            await _check_quota(info, storage, territory_id, owner, prepared.size)
            added = True
            await _add(storage, prepared)
            async with territory_change(info, territory_id) as change:
                await file_db.lock_territory_storage(change.conn, territory_id)
                per_owner, total = await file_db.usage(change.conn, [owner])
                check_quota(
                    per_owner.get(owner, 0), prepared.size, storage.config.quota_user, "your"
                )
                check_quota(
                    total, prepared.size, storage.config.quota_territory, "your territory's"
                )
                record, created = await file_db.insert_file(
                    change.conn, owner, input.purpose, prepared.original
                )
                if created:
                    for variant, _ in prepared.variants:
                        await file_db.insert_variant(change.conn, record, variant)
                    change.audit(
                        AuditAction.FILE_UPLOADED,
                        target=str(record.id),
                        details={"purpose": input.purpose.value, "size": record.size},
                    )
                    change.emit(
                        FileUploaded(
                            territory_id=territory_id,
                            file_id=record.id,
                            owner_id=owner,
                            purpose=input.purpose,
                        )
                    )
        except BaseException:
            if added:
                try:
                    await release(info.context.db, storage.node, prepared.cids)
                except Exception:
                    log.warning("could not release the pins of a failed upload", exc_info=True)
            raise
        finally:
            remove(prepared.temp)
        try:
            await repin(info.context.db, storage.node, prepared.cids)
        except Unavailable:
            # The add pinned them already; re-pinning only closes a race with the collector.
            log.warning("could not re-pin %s after recording it", prepared.original.cid)
        return UploadFilePayload(
            file=File.from_record(territory_id, record), already_stored=not created
        )


def avatar_ref(value: str, territory_id: str) -> str:
    """``file:<uuid>``, what a profile stores, for a File id of the caller's territory."""
    file_territory, key = key_of(value, "File", field="avatar")
    if file_territory != territory_id:
        raise NotFound("No such file.", field="avatar")
    return f"file:{key}"


async def set_avatar(
    conn: AsyncConnection, territory_id: str, owner: uuid.UUID, ref: object
) -> None:
    """Make the file ``ref`` names the owner's avatar (its reference keeps it pinned), or none.

    NOT_FOUND unless it is the owner's own original file; FILE_TYPE_NOT_ALLOWED unless it was
    uploaded as an avatar (so it was re-encoded and has its variants)."""
    key = None if ref is None else uuid.UUID(str(ref).removeprefix("file:"))
    if key is not None:
        record = await file_db.lock_file(conn, key)
        if record is None or record.owner_id != owner or record.variant_of is not None:
            raise NotFound("No such file.", field="avatar")
        if record.purpose is not FilePurpose.AVATAR:
            raise FileTypeNotAllowed(
                "An avatar is a file uploaded with purpose AVATAR.", field="avatar"
            )
    await file_db.replace_reference(conn, AVATAR_REFERENCE, owner, key)


async def file_node(info: Info, key: ids.NodeKey) -> Node | None:
    """``node`` on a File id: its owner, or whoever may see what references it."""
    return await file_view(info, key.territory_id, ids.parse_uuid(key.key))
