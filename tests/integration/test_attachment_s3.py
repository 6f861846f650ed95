"""Attachments in an S3-compatible store: moto's S3 server on a loopback port stands in for
MinIO or a cloud bucket (a fake of an edge we do not own); everything else is the real stack."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer
from pydantic import SecretStr

from engine.errors import Conflict
from tests import attachment_files as files
from tests.integration.test_attachments import APPLICANT_USER, apply_task, product
from tests.live_server import free_port


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a loopback port: a real HTTP S3 endpoint, as MinIO would be."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_an_s3_compatible_store_keeps_the_files(
    s3_endpoint, database_url, clock, wall_clock, tmp_path
):
    bucket = f"landflow-{tmp_path.name.lower().replace('_', '-')[-40:]}"
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
    )
    s3.create_bucket(Bucket=bucket)
    lf_iter = product(
        database_url,
        clock,
        wall_clock,
        tmp_path,
        attachments_s3_bucket=bucket,
        attachments_s3_endpoint=s3_endpoint,
        attachments_s3_access_key=SecretStr("test-key"),
        attachments_s3_secret_key=SecretStr("test-secret"),
    )
    lf = next(lf_iter)
    try:
        _, task = apply_task(lf)
        applicant = lf.auth.actor_for(APPLICANT_USER)
        body = files.pdf("土地权属证明")
        made = lf.attachments.upload(applicant, task["id"], "土地权属证明", "证.pdf", body)
        key = f"attachments/{made['sha256'][:2]}/{made['sha256']}"
        stored = s3.get_object(Bucket=bucket, Key=key)
        assert stored["Body"].read() == body
        assert stored["ContentType"] == "application/pdf"
        assert lf.attachments.download(applicant, made["id"]).data == body
        assert not (tmp_path / "attachments").exists()  # nothing went to the local folder

        s3.put_object(Bucket=bucket, Key=key, Body=body + b"tampered")
        with pytest.raises(Conflict, match="文件校验未通过"):
            lf.attachments.download(applicant, made["id"])
        lf.attachments.delete(applicant, made["id"])
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    finally:
        next(lf_iter, None)
