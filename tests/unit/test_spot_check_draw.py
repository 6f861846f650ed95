"""The arithmetic of the yearly spot-check draw (engine/domain/spot_checks.py): the share rounded
up in decimal, the reproducible positions, and the shares file."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest

from engine.domain.spot_checks import draw, draw_positions, load_shares, required_count
from engine.errors import DefinitionInvalid

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


@pytest.mark.parametrize(
    ("percent", "candidates", "count"),
    [
        (40, 5, 2),
        (40, 6, 3),
        (40, 0, 0),
        (40, 1, 1),
        (15, 20, 3),
        (15, 21, 4),
        (15, 6, 1),
        (100, 7, 7),
    ],
)
def test_the_share_is_rounded_up_without_float_error(percent, candidates, count):
    assert required_count(Decimal(percent), candidates) == count


def test_the_same_seed_gives_the_same_positions_and_another_seed_may_not():
    assert draw_positions(20261102, 50, 20) == draw_positions(20261102, 50, 20)
    assert draw_positions(20261102, 50, 20) == sorted(random.Random(20261102).sample(range(50), 20))
    assert draw_positions(1, 50, 20) != draw_positions(2, 50, 20)
    assert draw(7, ["a", "b", "c", "d"], 4) == ["a", "b", "c", "d"]  # all, in candidate order


def test_the_shipped_shares_and_a_broken_file(tmp_path):
    shares = load_shares(PROCESSES)
    assert (shares["city"].min_percent, shares["province"].min_percent) == (40, 15)
    assert "第二十二条" in shares["city"].basis
    assert load_shares(tmp_path)["province"].min_percent == 15  # no file: the law's figures
    (tmp_path / "spot_check_shares.json").write_text('{"city": {"min_share_percent": 0}}')
    with pytest.raises(DefinitionInvalid, match="city"):
        load_shares(tmp_path)
    (tmp_path / "spot_check_shares.json").write_text("[1]")
    with pytest.raises(DefinitionInvalid, match="抽查比例配置有误"):
        load_shares(tmp_path)
