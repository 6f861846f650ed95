"""Where attachment bytes live: outside the database, addressed by their SHA-256.

`BlobStore` is the whole interface; `LocalBlobStore` keeps files in a folder (the default),
`S3BlobStore` in any S3-compatible bucket. `open_blob_store(settings)` picks one."""

from __future__ import annotations

from typing import Protocol

from engine.settings import Settings


class BlobMissing(Exception):
    """The store has no blob under this key."""


class StorageUnavailable(Exception):
    """The store could not be reached or written (disk full, bucket down, …)."""


class BlobStore(Protocol):
    def start_up(self) -> None:
        """Create the folder or check the bucket; a broken store stops start-up."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key` (idempotent: the key is the content's hash)."""

    def get(self, key: str) -> bytes:
        """The bytes under `key`, or BlobMissing."""

    def delete(self, key: str) -> None:
        """Remove the blob; removing a missing blob is no error."""

    def exists(self, key: str) -> bool: ...


def open_blob_store(settings: Settings) -> BlobStore:
    if settings.attachments_s3_bucket:
        from .s3 import S3BlobStore

        return S3BlobStore.from_settings(settings)
    from .local import LocalBlobStore

    return LocalBlobStore(settings.attachments_dir)


__all__ = ["BlobMissing", "BlobStore", "StorageUnavailable", "open_blob_store"]
