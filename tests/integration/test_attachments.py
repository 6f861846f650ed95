"""Attachments and the 材料清单 over real HTTP on both databases, with the product's processes:
upload, list and download with the checksum; size and type limits decided by the content; an
outsider learns nothing; a missing required material blocks the step until it is uploaded; the
bytes live in the blob store (a folder, or an S3-compatible server), never in the database."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import LargeBinary, create_engine, select

from engine.api.app import create_app
from engine.db.tables import Attachment, HistoryEntry
from engine.errors import Conflict, ValidationFailed
from engine.services.attachment_samples import attach_samples
from engine.services.container import Landflow
from tests import attachment_files as files
from tests.conftest import PROJECT, _landflow
from tests.scenarios.test_joint_review_entry import PRECHECK_OK, ZRZY, application, start

APPLY_MATERIALS = ["入市申请书", "土地权属证明", "宗地图"]
APPLICANT_USER = "applicant.330702101201"
OUTSIDER = "zrzy.330782"  # a clerk of 义乌, another county


def product(database_url, clock, wall_clock, tmp_path, **overrides) -> Iterator[Landflow]:
    return _landflow(
        database_url,
        clock,
        wall_clock,
        processes_dir=PROJECT / "processes",
        forms_dir=PROJECT / "forms",
        attachments_dir=tmp_path / "attachments",
        **overrides,
    )


@pytest.fixture
def att_lf(database_url, clock, wall_clock, tmp_path) -> Iterator[Landflow]:
    yield from product(database_url, clock, wall_clock, tmp_path)


@pytest.fixture
def small_lf(database_url, clock, wall_clock, tmp_path) -> Iterator[Landflow]:
    """At most 100 KB, and PDF or PNG only."""
    yield from product(
        database_url,
        clock,
        wall_clock,
        tmp_path,
        attachments_max_bytes=100 * 1024,
        attachments_allowed_types="pdf,png",
    )


def client_for(lf: Landflow) -> TestClient:
    return TestClient(create_app(lf, start_scheduler=False))


def sign_in(client: TestClient, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"username": username, "password": "demo"})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def apply_task(lf: Landflow):
    case = start(lf)
    return case, case.task("apply")


def upload(client, headers, task_id, name, data, material=None, claimed_type="text/plain"):
    form = {"material": material} if material else {}
    return client.post(
        f"/api/v1/tasks/{task_id}/attachments",
        headers=headers,
        files={"file": (name, data, claimed_type)},
        data=form,
    )


def test_upload_list_and_download_round_trip_with_the_checksum(att_lf):
    case, task = apply_task(att_lf)
    with client_for(att_lf) as client:
        applicant = sign_in(client, APPLICANT_USER)
        body = files.pdf("宗地图")
        # the client claims text/plain and a misleading name; the content decides
        made = upload(client, applicant, task["id"], "界址图.txt", body, "宗地图")
        assert made.status_code == 201, made.text
        stored = made.json()
        assert stored["sha256"] == hashlib.sha256(body).hexdigest()
        assert (stored["kind"], stored["content_type"]) == ("pdf", "application/pdf")
        assert stored["file_name"] == "界址图.pdf" and stored["size"] == len(body)
        assert stored["material"] == "宗地图" and stored["uploaded_by"] == APPLICANT_USER
        assert stored["can_delete"] is True

        att_lf.clock.advance(timedelta(minutes=1))
        photo = upload(client, applicant, task["id"], "现场.png", files.png(), "现状照片")
        att_lf.clock.advance(timedelta(minutes=1))
        plan = upload(client, applicant, task["id"], "说明.docx", files.docx())
        assert photo.status_code == plan.status_code == 201, (photo.text, plan.text)
        assert plan.json()["material"] is None  # 其他材料

        listed = client.get(f"/api/v1/instances/{case.id}/attachments", headers=applicant)
        assert [a["file_name"] for a in listed.json()["items"]] == [
            "界址图.pdf",
            "现场.png",
            "说明.docx",
        ]

        got = client.get(f"/api/v1/attachments/{stored['id']}/content", headers=applicant)
        assert got.status_code == 200 and got.content == body
        assert hashlib.sha256(got.content).hexdigest() == stored["sha256"]
        assert got.headers["content-type"] == "application/pdf"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-disposition"].startswith("attachment;")
        assert (
            "filename*=UTF-8''%E7%95%8C%E5%9D%80%E5%9B%BE.pdf" in got.headers["content-disposition"]
        )

        def disposition(attachment_id: str) -> str:
            answer = client.get(
                f"/api/v1/attachments/{attachment_id}/content",
                headers=applicant,
                params={"inline": "true"},
            )
            assert answer.headers["x-content-type-options"] == "nosniff"
            return answer.headers["content-disposition"].split(";")[0]

        assert disposition(stored["id"]) == "inline"  # PDF previews
        assert disposition(photo.json()["id"]) == "inline"  # images preview
        assert disposition(plan.json()["id"]) == "attachment"  # Word is only downloaded

        materials = client.get(f"/api/v1/tasks/{task['id']}/materials", headers=applicant)
        assert materials.status_code == 200
        checklist = {m["name"]: m["present"] for m in materials.json()["materials"]}
        assert checklist["宗地图"] is True and checklist["现状照片"] is True
        assert checklist["土地权属证明"] is False
        assert materials.json()["missing"] == ["入市申请书", "土地权属证明"]

    history = [h for h in case.refresh()["history"] if h["action"] == "attachment_added"]
    assert [h["details"]["material"] for h in history] == ["宗地图", "现状照片", "其他材料"]


def test_size_and_type_limits_are_decided_by_the_content(small_lf):
    _, task = apply_task(small_lf)
    with client_for(small_lf) as client:
        applicant = sign_in(client, APPLICANT_USER)

        def refused(name, data, material="宗地图", claimed="application/pdf") -> dict:
            answer = upload(client, applicant, task["id"], name, data, material, claimed)
            assert answer.status_code == 422, answer.text
            return {e["field"]: e["message"] for e in answer.json()["errors"]}

        assert refused("伪装.pdf", files.exe()) == {
            "file": "不支持的文件类型：只接受 PDF、PNG（按文件内容识别，改扩展名无效）"
        }
        assert refused("网页.pdf", b"<html><script>alert(1)</script></html>")["file"].startswith(
            "不支持的文件类型"
        )
        assert refused("表格.xlsx", files.xlsx())["file"].startswith("不支持的文件类型")
        too_big = files.pdf() + b"%" * (100 * 1024)
        assert refused("大文件.pdf", too_big) == {"file": "文件超过 100 KB 的大小限制"}
        assert refused("空.pdf", b"") == {"file": "文件是空的，请重新选择"}
        assert refused("宗地图.pdf", files.pdf(), material="不存在的材料") == {
            "material": "本环节的材料清单中没有这项材料"
        }
        none = client.post(
            f"/api/v1/tasks/{task['id']}/attachments",
            headers=applicant,
            data={"material": "宗地图"},
        )
        assert none.status_code == 422 and none.json()["errors"][0]["field"] == "file"
        # a body announcing far more than the limit is refused before it is read
        huge = client.post(
            f"/api/v1/tasks/{task['id']}/attachments",
            headers={**applicant, "Content-Length": str(50 * 1024 * 1024)},
            content=b"x" * 10,
        )
        assert huge.status_code == 422
        assert huge.json()["errors"] == [{"field": "file", "message": "文件超过 100 KB 的大小限制"}]

        assert upload(client, applicant, task["id"], "图.png", files.png()).status_code == 201
    admin = small_lf.auth.actor_for("admin")
    assert [a["kind"] for a in small_lf.attachments.list_for_case(admin, task["instance_id"])] == [
        "png"
    ]


def test_a_zip_carrying_a_program_is_refused(att_lf):
    _, task = apply_task(att_lf)
    with client_for(att_lf) as client:
        applicant = sign_in(client, APPLICANT_USER)
        archive = files.zip_of({"宗地图.pdf": files.pdf(), "查看器.exe": files.exe()})
        answer = upload(client, applicant, task["id"], "材料.zip", archive)
        assert answer.status_code == 422
        assert answer.json()["errors"] == [
            {"field": "file", "message": "压缩包内含可执行程序，不能上传"}
        ]
        fine = files.zip_of({"宗地图.pdf": files.pdf(), "照片.png": files.png()})
        assert upload(client, applicant, task["id"], "材料.zip", fine).status_code == 201


def test_an_outsider_learns_nothing_about_the_files(att_lf):
    case, task = apply_task(att_lf)
    with client_for(att_lf) as client:
        applicant = sign_in(client, APPLICANT_USER)
        made = upload(client, applicant, task["id"], "宗地图.pdf", files.pdf(), "宗地图").json()
        outsider = sign_in(client, OUTSIDER)
        unknown = "00000000-0000-0000-0000-00000000abcd"
        for method, path, missing in (
            ("GET", f"/api/v1/attachments/{made['id']}", f"/api/v1/attachments/{unknown}"),
            (
                "GET",
                f"/api/v1/attachments/{made['id']}/content",
                f"/api/v1/attachments/{unknown}/content",
            ),
            ("DELETE", f"/api/v1/attachments/{made['id']}", f"/api/v1/attachments/{unknown}"),
            (
                "GET",
                f"/api/v1/instances/{case.id}/attachments",
                f"/api/v1/instances/{unknown}/attachments",
            ),
            (
                "GET",
                f"/api/v1/tasks/{task['id']}/materials",
                f"/api/v1/tasks/{unknown}/materials",
            ),
        ):
            seen = client.request(method, path, headers=outsider)
            other = client.request(method, missing, headers=outsider)
            assert seen.status_code == other.status_code == 404, (method, path, seen.text)
            assert seen.text.replace(made["id"], "X").replace(case.id, "X").replace(
                task["id"], "X"
            ) == other.text.replace(unknown, "X")
        sneaked = upload(client, outsider, task["id"], "x.pdf", files.pdf(), "宗地图")
        assert sneaked.status_code == 404
    assert len(att_lf.attachments.list_for_case(att_lf.auth.actor_for("admin"), case.id)) == 1


def test_a_missing_required_material_blocks_submission_until_it_is_uploaded(att_lf):
    case, task = apply_task(att_lf)
    with client_for(att_lf) as client:
        applicant = sign_in(client, APPLICANT_USER)
        blocked = client.post(
            f"/api/v1/tasks/{task['id']}/complete",
            headers=applicant,
            json={"data": application()},
        )
        assert blocked.status_code == 422, blocked.text
        assert blocked.json()["errors"] == [
            {"field": f"materials.{name}", "message": f"缺少必需材料：{name}"}
            for name in APPLY_MATERIALS
        ]
        for name in APPLY_MATERIALS[:2]:
            made = upload(client, applicant, task["id"], f"{name}.pdf", files.pdf(name), name)
            assert made.status_code == 201
        still = client.post(
            f"/api/v1/tasks/{task['id']}/complete",
            headers=applicant,
            json={"data": application()},
        )
        assert still.json()["errors"] == [
            {"field": "materials.宗地图", "message": "缺少必需材料：宗地图"}
        ]
        assert case.task("apply")["state"] == "open"  # nothing moved
        assert upload(client, applicant, task["id"], "宗地图.png", files.png(), "宗地图").is_success
        done = client.post(
            f"/api/v1/tasks/{task['id']}/complete",
            headers=applicant,
            json={"data": application()},
        )
        assert done.status_code == 200, done.text
    assert case.open_names() == ["precheck"]
    case.complete("precheck", PRECHECK_OK, by=ZRZY)  # a step without required materials


def test_the_file_lives_in_the_store_with_its_checksum_not_in_the_database(
    att_lf, database_url, tmp_path
):
    _, task = apply_task(att_lf)
    applicant = att_lf.auth.actor_for(APPLICANT_USER)
    marker = "唯一标记-宗地图-7f3a9c"
    body = files.pdf(marker)
    made = att_lf.attachments.upload(applicant, task["id"], "宗地图", "宗地图.pdf", body)
    blob = tmp_path / "attachments" / made["sha256"][:2] / made["sha256"][2:4] / made["sha256"]
    assert blob.read_bytes() == body
    assert marker not in str(blob) and "宗地图" not in str(blob)  # named by content only
    assert not any(isinstance(c.type, LargeBinary) for c in Attachment.__table__.columns)
    if database_url.startswith("sqlite"):
        raw = Path(database_url.removeprefix("sqlite:///")).read_bytes()
        assert body[-200:] not in raw and b"%PDF-" not in raw

    # checked on every read: a changed file is refused, a lost one reported
    blob.write_bytes(body.replace(b"%%EOF", b"%%EOX"))
    with client_for(att_lf) as client:
        headers = sign_in(client, APPLICANT_USER)
        corrupt = client.get(f"/api/v1/attachments/{made['id']}/content", headers=headers)
        assert corrupt.status_code == 409
        assert corrupt.json()["message"] == "文件校验未通过（内容已损坏），请联系管理员"
        blob.unlink()
        lost = client.get(f"/api/v1/attachments/{made['id']}/content", headers=headers)
        assert lost.status_code == 404 and lost.json()["message"] == "文件已丢失，请联系管理员"

    engine = create_engine(database_url)
    with engine.connect() as connection:
        row = connection.execute(select(Attachment.__table__)).one()._mapping
    engine.dispose()
    assert row["sha256"] == hashlib.sha256(body).hexdigest() and row["size"] == len(body)


def test_delete_by_the_uploader_or_an_admin_while_the_step_is_open(att_lf, tmp_path):
    case, task = apply_task(att_lf)
    applicant = att_lf.auth.actor_for(APPLICANT_USER)
    admin = att_lf.auth.actor_for("admin")
    body = files.pdf("宗地图")
    first = att_lf.attachments.upload(applicant, task["id"], "宗地图", "a.pdf", body)
    twin = att_lf.attachments.upload(admin, task["id"], None, "b.pdf", body)  # same content
    blob = tmp_path / "attachments" / first["sha256"][:2] / first["sha256"][2:4] / first["sha256"]
    assert first["sha256"] == twin["sha256"]
    with client_for(att_lf) as client:
        headers = sign_in(client, APPLICANT_USER)
        # the applicant did not upload the twin, and is no administrator
        other = client.delete(f"/api/v1/attachments/{twin['id']}", headers=headers)
        assert other.status_code == 403
        gone = client.delete(f"/api/v1/attachments/{first['id']}", headers=headers)
        assert gone.status_code == 200
    assert blob.is_file()  # the twin still needs the content
    att_lf.attachments.delete(admin, twin["id"])
    assert not blob.exists()  # the last reference took it along
    assert [h["action"] for h in case.refresh()["history"]].count("attachment_deleted") == 2

    attach_samples(att_lf.attachments, applicant, task["id"])
    kept = att_lf.attachments.for_task(applicant, task["id"])["attachments"][0]
    att_lf.tasks.complete(applicant, task["id"], application())
    with pytest.raises(Conflict) as closed:
        att_lf.attachments.delete(applicant, kept["id"])
    assert closed.value.message == "上传该附件的环节已经办结，附件不能再删除"
    assert att_lf.attachments.get(applicant, kept["id"])["can_delete"] is False


def test_the_service_blocks_completion_with_field_errors(att_lf):
    case, task = apply_task(att_lf)
    applicant = att_lf.auth.actor_for(APPLICANT_USER)
    with pytest.raises(ValidationFailed) as missing:
        att_lf.tasks.complete(applicant, task["id"], application())
    assert missing.value.message == "缺少必需材料：入市申请书、土地权属证明、宗地图"
    added = attach_samples(att_lf.attachments, applicant, task["id"])
    assert [a["material"] for a in added] == APPLY_MATERIALS
    att_lf.tasks.complete(applicant, task["id"], application())
    with att_lf.uow.read() as session:
        actions = session.scalars(
            select(HistoryEntry.action).where(HistoryEntry.instance_id == case.id)
        ).all()
    assert actions.count("attachment_added") == 3 and "task_completed" in actions
