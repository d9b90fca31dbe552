"""Files on IPFS as the API shows them, and who may see one.

A file is visible to its owner, and to whoever may see an object referencing it: an avatar to
whoever the owner's privacy settings show their avatar (``Profile.avatar``). Anyone else gets
null (``NOT_FOUND`` through ``node``), and ``GET /files/<cid>`` answers them 404 as well
(graph/server/files.py applies ``file_view`` too).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from db.files import AVATAR_REFERENCE, FileRecord
from domain.files import FilePurpose, file_readable
from domain.privacy import ProfileField
from graph import ids
from graph.context import Info
from graph.loaders.files import FILE_BY_ID, REFERENCES_OF_FILE, STORAGE_USAGE, VARIANTS_OF_FILE
from graph.types.enums import described_enum
from graph.types.profiles import Profile, profile_sight, profile_view
from graph.types.relay import Node, PersonKey

FilePurposeEnum = described_enum(
    FilePurpose,
    name="FilePurpose",
    description="What a file is for; it decides which types are accepted.",
    values={
        FilePurpose.AVATAR: "A profile picture: JPEG, PNG, GIF or WebP; re-encoded, with 64 and "
        "256 px square variants.",
        FilePurpose.COURSE_MATERIAL: "A course's video, document or archive.",
        FilePurpose.ATTACHMENT: "A file attached to a post or message.",
    },
)


def file_url(cid: str, file_id: str) -> str:
    """Where ``GET /files/<cid>`` serves the file (the id names the row that decides access)."""
    return f"/files/{cid}?id={file_id}"


@strawberry.type(description="A smaller copy of an image (an avatar's squares).")
class FileVariant:
    variant: str = strawberry.field(description="Its name: the side in pixels, e.g. `64`.")
    cid: str = strawberry.field(description="Its content id (CIDv1, base32).")
    mime_type: str = strawberry.field(description="Its media type, e.g. `image/webp`.")
    size: int = strawberry.field(description="Its size in bytes.")
    width: int | None = strawberry.field(description="Width in pixels.")
    height: int | None = strawberry.field(description="Height in pixels.")
    url: str = strawberry.field(description="Where to fetch it (relative to the API's origin).")


@strawberry.type(
    description="A file stored on IPFS: its content id, detected type and size. Visible to its "
    "owner and to whoever may see what references it (an avatar: whoever the owner's privacy "
    "settings show it); null or NOT_FOUND for anyone else."
)
class File(Node):
    cid: str = strawberry.field(
        description="Content id (CIDv1, base32), checked against one computed from the bytes."
    )
    mime_type: str = strawberry.field(
        description="Media type detected from the bytes (never the client's claim)."
    )
    size: int = strawberry.field(description="Size in bytes.")
    purpose: FilePurpose = strawberry.field(description="What it was uploaded for.")
    url: str = strawberry.field(
        description="Where to fetch it: `GET /files/<cid>?id=<file id>` on the API's origin "
        "(range requests, immutable caching)."
    )
    filename: str = strawberry.field(
        description="A safe name for downloads: the uploaded name's letters and digits, with the "
        "extension of the detected type."
    )
    width: int | None = strawberry.field(description="Width in pixels of an image; else null.")
    height: int | None = strawberry.field(description="Height in pixels of an image; else null.")
    created_at: datetime = strawberry.field(description="When it was uploaded.")
    territory_code: strawberry.Private[str]
    key: strawberry.Private[uuid.UUID]
    owner_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_record(cls, territory_id: str, record: FileRecord) -> File:
        node_id = ids.encode("File", territory_id, str(record.id))
        return cls(
            id=strawberry.ID(node_id),
            cid=record.cid,
            mime_type=record.media_type,
            size=record.size,
            purpose=record.purpose,
            url=file_url(record.cid, node_id),
            filename=record.filename,
            width=record.width,
            height=record.height,
            created_at=record.created_at,
            territory_code=territory_id,
            key=record.id,
            owner_id=record.owner_id,
        )

    @strawberry.field(
        description="The uploader's profile, as their privacy settings let you see it; null "
        "when it shows you nothing."
    )
    async def owner(self, info: Info) -> Profile | None:
        return await profile_view(info, self.territory_code, self.owner_id)

    @strawberry.field(description="Smaller copies (an avatar's 64 and 256 px squares).")
    async def variants(self, info: Info) -> list[FileVariant]:
        loader = info.context.loaders.get(VARIANTS_OF_FILE, self.territory_code)
        found = await loader.load(self.key)
        return [
            FileVariant(
                variant=v.variant or "",
                cid=v.cid,
                mime_type=v.media_type,
                size=v.size,
                width=v.width,
                height=v.height,
                url=file_url(v.cid, ids.encode("File", self.territory_code, str(v.id))),
            )
            for v in found
        ]

    @classmethod
    async def for_avatar(cls, info: Info, territory_id: str, ref: str | None) -> File | None:
        """The file a profile's avatar names; the caller may see the avatar (already decided)."""
        if ref is None or not ref.startswith("file:"):
            return None
        record = await info.context.loaders.get(FILE_BY_ID, territory_id).load(
            uuid.UUID(ref.removeprefix("file:"))
        )
        return None if record is None else cls.from_record(territory_id, record)


async def readable_record(info: Info, territory_id: str, key: uuid.UUID) -> FileRecord | None:
    """The file row if the caller may see it (see the module's docstring); else None."""
    record = await info.context.loaders.get(FILE_BY_ID, territory_id).load(key)
    if record is None:
        return None
    caller = info.context.caller
    if caller.is_account(territory_id, record.owner_id):
        return record
    original = record.variant_of or record.id
    references = await info.context.loaders.get(REFERENCES_OF_FILE, territory_id).load(original)
    avatar_shown = False
    for kind, object_id in references:
        if kind == AVATAR_REFERENCE:
            sight = await profile_sight(info, territory_id, object_id)
            avatar_shown = sight is not None and ProfileField.AVATAR in sight.visible
            if avatar_shown:
                break
    return record if file_readable(is_owner=False, reference_visible=avatar_shown) else None


async def file_view(info: Info, territory_id: str, key: uuid.UUID) -> File | None:
    record = await readable_record(info, territory_id, key)
    return None if record is None else File.from_record(territory_id, record)


@strawberry.type(
    description="Storage used and allowed, in bytes. Floats, because totals may pass 2^31; each "
    "is a whole number."
)
class StorageUsage:
    used_bytes: float = strawberry.field(description="Bytes your files take (variants included).")
    quota_bytes: float | None = strawberry.field(description="Bytes you may store; null: no quota.")
    territory_used_bytes: float = strawberry.field(
        description="Bytes every file of your territory takes."
    )
    territory_quota_bytes: float | None = strawberry.field(
        description="Bytes your territory may store; null: no quota."
    )


@strawberry.type
class UserFiles(PersonKey):
    """``User.storageUsage``."""

    @strawberry.field(description="Storage you use and may use. Null unless it is you.")
    async def storage_usage(self, info: Info) -> StorageUsage | None:
        if not info.context.caller.is_account(self.territory_code, self.user_id):
            return None
        loader = info.context.loaders.get(STORAGE_USAGE, self.territory_code)
        used, territory_used = await loader.load(self.user_id)
        storage = info.context.storage
        quota = storage.config.quota_user if storage else 0
        territory_quota = storage.config.quota_territory if storage else 0
        return StorageUsage(
            used_bytes=used,
            quota_bytes=quota or None,
            territory_used_bytes=territory_used,
            territory_quota_bytes=territory_quota or None,
        )
