"""Blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, OSS/COS in S3 mode, …).

Endpoint, bucket and region come from settings; the access key and secret come from the
environment (LANDFLOW_ATTACHMENTS_S3_ACCESS_KEY / _SECRET_KEY, or boto3's own chain:
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, profiles, instance roles) and never from the repo."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from engine.settings import Settings

from . import BlobMissing, StorageUnavailable

_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3BlobStore:
    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        credentials = {}
        if settings.attachments_s3_access_key and settings.attachments_s3_secret_key:
            credentials = {
                "aws_access_key_id": settings.attachments_s3_access_key.get_secret_value(),
                "aws_secret_access_key": settings.attachments_s3_secret_key.get_secret_value(),
            }
        client = boto3.client(
            "s3",
            endpoint_url=settings.attachments_s3_endpoint or None,
            region_name=settings.attachments_s3_region,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
            **credentials,
        )
        return cls(client, settings.attachments_s3_bucket or "", settings.attachments_s3_prefix)

    def start_up(self) -> None:
        with _unavailable():
            self.client.head_bucket(Bucket=self.bucket)

    def key_of(self, key: str) -> str:
        return f"{self.prefix}{key[:2]}/{key}"

    def put(self, key: str, data: bytes, content_type: str) -> None:
        with _unavailable():
            self.client.put_object(
                Bucket=self.bucket, Key=self.key_of(key), Body=data, ContentType=content_type
            )

    def get(self, key: str) -> bytes:
        with _unavailable():
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=self.key_of(key))
            except ClientError as exc:
                if _missing(exc):
                    raise BlobMissing(key) from None
                raise
            return answer["Body"].read()

    def delete(self, key: str) -> None:
        with _unavailable():
            self.client.delete_object(Bucket=self.bucket, Key=self.key_of(key))

    def exists(self, key: str) -> bool:
        with _unavailable():
            try:
                self.client.head_object(Bucket=self.bucket, Key=self.key_of(key))
            except ClientError as exc:
                if _missing(exc):
                    return False
                raise
            return True


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in _MISSING


@contextmanager
def _unavailable() -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise StorageUnavailable(str(exc)) from exc
