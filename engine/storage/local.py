"""Blobs as files in a local folder: <root>/ab/cd/<sha256>, written atomically."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from . import BlobMissing, StorageUnavailable

_KEY = re.compile(r"^[0-9a-f]{64}$")


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def start_up(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def path_of(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError("a blob key is a lower-case SHA-256 hex digest")
        return self.root / key[:2] / key[2:4] / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        target = self.path_of(key)
        if target.is_file() and target.stat().st_size == len(data):
            return
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from exc
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise StorageUnavailable(str(exc)) from exc
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self.path_of(key).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(key) from None
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def delete(self, key: str) -> None:
        try:
            self.path_of(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def exists(self, key: str) -> bool:
        return self.path_of(key).is_file()
