"""The file storage of one process: the IPFS node and the limits it enforces, from settings."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from domain.files import FileKind, FileLimits
from files.ipfs import IpfsNode, IpfsTimeouts
from unityplan.settings import Settings


@dataclass(frozen=True, slots=True)
class StorageConfig:
    limits: FileLimits
    max_files: int
    temp_dir: str
    quota_user: int
    quota_territory: int
    image_max_pixels: int
    image_max_side: int
    grace_seconds: int


@dataclass(frozen=True, slots=True)
class FileStorage:
    node: IpfsNode
    config: StorageConfig

    @classmethod
    def from_settings(cls, settings: Settings) -> FileStorage:
        limits = FileLimits(
            {
                FileKind.IMAGE: settings.file_max_image_bytes,
                FileKind.DOCUMENT: settings.file_max_document_bytes,
                FileKind.VIDEO: settings.file_max_video_bytes,
                FileKind.ARCHIVE: settings.file_max_archive_bytes,
            }
        )
        temp_dir = settings.upload_temp_dir or os.path.join(
            tempfile.gettempdir(), "unityplan-uploads"
        )
        node = IpfsNode(
            settings.ipfs_url,
            IpfsTimeouts(settings.ipfs_timeout_seconds, settings.ipfs_add_bytes_per_second),
        )
        return cls(
            node,
            StorageConfig(
                limits=limits,
                max_files=settings.upload_max_files,
                temp_dir=temp_dir,
                quota_user=settings.file_quota_user_bytes,
                quota_territory=settings.file_quota_territory_bytes,
                image_max_pixels=settings.image_max_pixels,
                image_max_side=settings.image_max_side,
                grace_seconds=settings.file_unreferenced_grace_seconds,
            ),
        )
