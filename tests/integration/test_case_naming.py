"""Every case gets a case number (办件编号) and a matter (事项名称) a clerk recognises."""

from __future__ import annotations

import threading

from engine.services.actor import SYSTEM
from tests.scenarios.test_joint_review_entry import APPLICANT, application, start


def test_a_case_is_numbered_and_named_from_its_data(product_lf):
    case = start(product_lf)
    first = case.refresh()
    assert first["case_no"] == "入市2026-00001"
    assert first["title"] == "古方村 入市"  # nothing known yet but the village
    case.complete("apply", application(), by=APPLICANT)
    named = case.refresh()
    assert named["title"] == "古方村 12.5亩 工业用地入市"
    assert named["applicant"] == "古方村股份经济合作社"
    second = product_lf.instances.start(SYSTEM, "joint_review_entry", "330702101201")
    assert second["case_no"] == "入市2026-00002"
    other = product_lf.instances.start(
        SYSTEM,
        "collective_decision",
        "330702101201",
        data={
            "matter": "收益分配方案",
            "deciding_body": "村民会议",
            "matter_title": "2026年收益分配",
        },
    )
    assert other["case_no"] == "决策2026-00001"
    assert other["title"] == "古方村 收益分配方案民主决策"


def test_concurrent_starts_never_share_a_number(product_lf):
    numbers: list[str] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(8)

    def start_one() -> None:
        barrier.wait()
        try:
            started = product_lf.instances.start(SYSTEM, "homestead_withdrawal", "330702101201")
            numbers.append(started["case_no"])
        except BaseException as exc:  # a refused start would be a bug here
            failures.append(exc)

    threads = [threading.Thread(target=start_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sorted(numbers) == [f"退出2026-{n:05d}" for n in range(1, 9)]
