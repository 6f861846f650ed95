"""What a file is comes from its bytes; names users gave are cleaned for display; the
materials file is checked line by line and names only real steps of the product processes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.errors import DefinitionInvalid
from engine.services.attachment_materials import parse_materials
from engine.services.attachment_views import display_name, size_text
from engine.storage.local import LocalBlobStore
from engine.storage.sniffing import KINDS, ExecutableInArchive, sniff
from tests import attachment_files as files

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (files.pdf(), "pdf"),
        (files.png(), "png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32, "jpeg"),
        (files.docx(), "docx"),
        (files.xlsx(), "xlsx"),
        (files.ofd(), "ofd"),
        (files.doc(), "doc"),
        (files.zip_of({"宗地图.pdf": files.pdf(), "照片/1.png": files.png()}), "zip"),
    ],
)
def test_the_kind_comes_from_the_first_bytes(data, kind):
    assert sniff(data) is KINDS[kind]


@pytest.mark.parametrize(
    "data",
    [
        files.exe(),
        b"<!doctype html><script>alert(1)</script>",
        b"#!/bin/sh\nrm -rf /\n",
        b"PK\x03\x04 not really a zip",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,  # an OLE file that is no document
        b"",
    ],
)
def test_programs_scripts_and_unknown_bytes_have_no_kind(data):
    assert sniff(data) is None


def test_a_zip_carrying_a_program_is_refused():
    with pytest.raises(ExecutableInArchive):
        sniff(files.zip_of({"说明.pdf": files.pdf(), "setup.EXE": files.exe()}))


@pytest.mark.parametrize(
    ("given", "kind", "shown"),
    [
        ("宗地图.pdf", "pdf", "宗地图.pdf"),
        ("C:\\Users\\村委\\桌面\\宗地图.PDF", "pdf", "宗地图.pdf"),
        ("../../etc/passwd", "pdf", "passwd.pdf"),
        ("权属证明.exe", "pdf", "权属证明.pdf"),  # the extension of what it really is
        ('a<b>:"c|?*\x00.png', "png", "abc.png"),
        ("", "jpeg", "现状照片.jpg"),
        (None, "docx", "现状照片.docx"),
        (".pdf", "pdf", "现状照片.pdf"),
    ],
)
def test_the_users_file_name_is_for_display_only(given, kind, shown):
    assert display_name(given, KINDS[kind], "现状照片") == shown


def test_sizes_read_as_people_say_them():
    assert size_text(900) == "900 字节"
    assert size_text(2048) == "2 KB"
    assert size_text(1536) == "1.5 KB"
    assert size_text(20 * 1024 * 1024) == "20 MB"


def test_the_materials_file_is_checked_line_by_line():
    good = "process_id,task_spec,task_name,material,required,note\np,t,申请,宗地图,是,界址\n"
    parsed = parse_materials(good)
    assert [(m.name, m.required, m.note) for m in parsed[("p", "t")]] == [("宗地图", True, "界址")]
    bad = (
        "process_id,task_spec,task_name,material,required,note\n"
        "p,t,申请,宗地图,必须,\n"
        "p,t,申请,宗地图.pdf,是,\n"
        "p,t,申请,,是,\n"
        "p,t,申请,权属证明,否,\n"
        "p,t,申请,权属证明,是,\n"
    )
    with pytest.raises(DefinitionInvalid) as refused:
        parse_materials(bad)
    messages = [p.message for p in refused.value.problems]
    assert [m.split("：")[1][:5] for m in messages] == ["第 2 行", "第 3 行", "第 4 行", "第 6 行"]
    with pytest.raises(DefinitionInvalid, match="缺少列"):
        parse_materials("process_id,task_spec,material\np,t,宗地图\n")


def test_every_row_of_the_products_materials_names_a_user_task_of_its_process():
    rows = parse_materials((PROCESSES / "materials.csv").read_text(encoding="utf-8"))
    tasks: dict[str, set[str]] = {}
    for bpmn in PROCESSES.glob("*.bpmn"):
        text = bpmn.read_text(encoding="utf-8")
        for process in re.finditer(r'<bpmn:process id="([^"]+)".*?</bpmn:process>', text, re.S):
            tasks[process.group(1)] = set(
                re.findall(r'<bpmn:userTask id="([^"]+)"', process.group(0))
            )
    for process_id, task_spec in rows:
        assert task_spec in tasks.get(process_id, set()), (process_id, task_spec)
    required = {key for key, materials in rows.items() if any(m.required for m in materials)}
    assert {
        ("joint_review_entry", "apply"),
        ("joint_review_entry", "draft_plan"),
        ("homestead_withdrawal", "submit_application"),
        ("consolidation_project", "propose_project"),
    } <= required


def test_the_local_store_keeps_blobs_by_hash_outside_the_database(tmp_path):
    store = LocalBlobStore(tmp_path / "blobs")
    store.start_up()
    key = "ab" + "0" * 62
    store.put(key, b"%PDF-1.4 x", "application/pdf")
    assert (tmp_path / "blobs" / "ab" / "00" / key).read_bytes() == b"%PDF-1.4 x"
    assert store.get(key) == b"%PDF-1.4 x" and store.exists(key)
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(ValueError):
        store.path_of("../../etc/passwd")
