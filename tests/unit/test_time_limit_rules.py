"""Time-limit rules in plain Python: region prefixes, precedence, committed ≤ statutory, the
file format, and the law's figures (行政许可法 §32, §42)."""

from datetime import date

import pytest

from engine.domain.calendar import package_calendar
from engine.domain.sla import Limit, exceeds
from engine.domain.time_limits import (
    FILE_COLUMNS,
    LimitRule,
    consistency_problems,
    effective,
    legal_max_extension,
    normalise_region,
    parse_rules_csv,
    rule_problems,
    supplement_notice_deadline,
)

HEADER = ",".join(FILE_COLUMNS) + "\n"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("", ""), ("330000", "33"), ("330700", "3307"), ("330702", "330702"), ("3307", "3307")],
)
def test_region_prefixes_are_gbt2260_code_prefixes(given, expected):
    assert normalise_region(given) == expected


def test_a_region_prefix_must_be_digits():
    with pytest.raises(ValueError, match="区划前缀"):
        normalise_region("33-07")


def test_the_longest_matching_region_prefix_wins_per_kind():
    rules = [
        LimitRule("p", "t", "", "committed", "5wd"),
        LimitRule("p", "t", "33", "committed", "4wd"),
        LimitRule("p", "t", "330702", "committed", "3wd"),
        LimitRule("p", "t", "330782", "committed", "2wd"),
        LimitRule("p", "t", "", "statutory", "20wd"),
    ]
    found = effective(rules, "330702101201")
    assert found["committed"].limit == "3wd" and found["statutory"].limit == "20wd"
    assert effective(rules, "331003101201")["committed"].limit == "4wd"
    assert effective(rules, "410502101201")["committed"].limit == "5wd"


def test_committed_may_not_exceed_statutory_in_any_region():
    assert exceeds(Limit(25, "wd"), Limit(20, "wd"))
    assert not exceeds(Limit(14, "wd"), Limit(20, "d"))  # 14 working days ≈ 19.6 days
    assert exceeds(Limit(20, "wd"), Limit(20, "d"))
    rules = [
        LimitRule("p", "t", "", "statutory", "20wd"),
        LimitRule("p", "t", "", "committed", "10wd"),
        LimitRule("p", "t", "3307", "committed", "25wd"),
    ]
    assert consistency_problems(rules) == ["p/t（区划 3307）：承诺时限 25wd 超过法定时限 20wd"]
    assert consistency_problems(rules[:2]) == []


def test_rule_problems_name_the_field_in_chinese():
    problems = dict(rule_problems(LimitRule("p", "t", "", "overall", "3 weeks", yellow="x")))
    assert set(problems) == {"kind", "limit", "yellow"}
    assert "整个办件" in problems["kind"]


def test_the_file_gives_one_rule_per_kind_and_names_bad_lines():
    rules, problems = parse_rules_csv(
        HEADER + "p,t,审查,,5wd,20wd,,80%,10,依据\np,*,,,,,60wd,,,总时限\n"
    )
    assert problems == []
    assert [(r.task_spec, r.kind, r.limit, r.max_extension) for r in rules] == [
        ("t", "statutory", "20wd", 10),
        ("t", "committed", "5wd", None),
        ("*", "overall", "60wd", None),
    ]
    _, problems = parse_rules_csv(HEADER + "p,t,,,5wd,,,,,\np,t,,,6wd,,,,,\np,u,,,,,,,,\n")
    assert problems == ["第 3 行：p/t//committed 重复", "第 4 行：没有任何时限"]
    assert parse_rules_csv("process_id,kind\n")[1][0].startswith("第 1 行：缺少列")


def test_the_laws_figures():
    # 行政许可法 §42: 20 working days + 10; joint handling 45 + 15; no figure for other clocks
    assert legal_max_extension("statutory", Limit(20, "wd")) == 10
    assert legal_max_extension("statutory", Limit(45, "wd")) == 15
    assert legal_max_extension("committed", Limit(20, "wd")) is None
    # §32: 5 working days after receipt; 09-28 + 5 is Sat 10-10, a make-up working day
    calendar = package_calendar()
    assert supplement_notice_deadline(calendar, date(2026, 9, 28)) == date(2026, 10, 10)
    assert supplement_notice_deadline(calendar, date(2026, 11, 2)) == date(2026, 11, 9)
