"""The merge at a join, on plain data: what each rule makes of the branches' changes."""

from __future__ import annotations

import pytest

from engine.bpmn.merge import Branch, MergeConflict, MergeRules, merge, rule_problems

STRICT = MergeRules()


def test_unchanged_copies_never_override_a_change_and_deletions_stay():
    base = {"stage": "待定", "draft": "x", "n": 1}
    merged = merge(
        base,
        [Branch("甲", {"stage": "已出具", "draft": "x", "n": 1}), Branch("乙", {"stage": "待定"})],
        STRICT,
    )
    assert merged == {"stage": "已出具"}  # 乙 deleted draft and n, 甲 left them alone


def test_a_value_and_its_deletion_conflict():
    with pytest.raises(MergeConflict) as conflict:
        merge({"x": 1}, [Branch("甲", {"x": 2}), Branch("乙", {})], STRICT)
    assert conflict.value.variables == ["x"]


def test_true_and_one_are_different_values():
    with pytest.raises(MergeConflict):
        merge({}, [Branch("甲", {"ok": True}), Branch("乙", {"ok": 1})], STRICT)


def test_every_conflict_is_named_and_the_rest_is_merged():
    with pytest.raises(MergeConflict) as conflict:
        merge(
            {"a": 0, "b": 0},
            [Branch("甲", {"a": 1, "b": 1, "c": 3}), Branch("乙", {"a": 2, "b": 2})],
            STRICT,
        )
    assert conflict.value.variables == ["a", "b"]
    assert conflict.value.merged == {"c": 3}
    assert "变量 a" in str(conflict.value) and "变量 b" in str(conflict.value)
    assert "（分支 甲、分支 乙）" in str(conflict.value)


def test_a_decided_value_settles_a_conflict():
    merged = merge({"a": 0}, [Branch("甲", {"a": 1}), Branch("乙", {"a": 2})], STRICT, {"a": 9})
    assert merged == {"a": 9}


def test_sum_needs_numbers():
    rules = MergeRules(variables={"n": "sum"})
    assert merge({"n": 5}, [Branch("甲", {"n": 6}), Branch("乙", {"n": 7})], rules) == {"n": 8}
    assert merge({}, [Branch("甲", {"n": 2}), Branch("乙", {"n": 3})], rules) == {"n": 5}
    with pytest.raises(MergeConflict, match="分支 乙 写入的值不是数字"):
        merge({"n": 5}, [Branch("甲", {"n": 6}), Branch("乙", {"n": "七"})], rules)
    with pytest.raises(MergeConflict, match="分支开始前它的值不是数字"):
        merge({"n": "五"}, [Branch("甲", {"n": 6})], rules)


def test_list_and_last_follow_arrival_order():
    branches = [Branch("甲", {"v": "a"}), Branch("乙", {"v": "b"})]
    assert merge({}, branches, MergeRules(variables={"v": "list"})) == {"v": ["a", "b"]}
    assert merge({}, branches, MergeRules(default="last")) == {"v": "b"}
    with pytest.raises(MergeConflict):  # a per-variable rule overrides the join's
        merge({}, branches, MergeRules(default="last", variables={"v": "strict"}))


def test_rule_problems():
    assert rule_problems({"merge": "last", "merge:v": "list", "formKey": "x"}) == []
    assert rule_problems({"merge": "list"}) == ["merge: unknown rule 'list' (use strict or last)"]
    assert rule_problems({"merge:1v": "sum"}) == ["merge:1v: '1v' is not a variable name"]
    with pytest.raises(ValueError):
        MergeRules.from_properties({"merge:v": "avg"})
