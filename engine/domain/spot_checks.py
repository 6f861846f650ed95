"""Yearly spot checks of accepted land-consolidation projects (浙江省土地整治条例 §22, §25: the
city checks at least 40 % and the province at least 15 % of the projects accepted each year).

The draw is reproducible by anyone: the candidates are put in order of their 办件编号 (case
number, then case id), `random.Random(seed)` picks `k` positions with `sample(range(n), k)`,
and the drawn projects are those positions, in candidate order. `k` is the share of `n`
rounded up, computed in decimal so that 15 % of 20 is 3, not 4."""

from __future__ import annotations

import json
import math
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.errors import DefinitionInvalid, DefinitionProblem

SHARES_FILE = "spot_check_shares.json"
LEVELS = ("city", "province")
LEVEL_NAMES = {"city": "市级", "province": "省级"}
DEFAULT_SHARES = {"city": Decimal(40), "province": Decimal(15)}
SEED_LIMIT = 10**12  # seeds are up to 12 digits: easy to read out, exact in JavaScript
ALGORITHM = (
    "候选项目按办件编号排序，以随机种子初始化 Python 的 random.Random，"
    "调用 sample(range(候选项目数), 抽取数) 得到被抽中项目的序号（从 0 起），按序号取项目。"
)


@dataclass(frozen=True)
class Share:
    level: str
    min_percent: Decimal
    basis: str


def load_shares(directory: Path) -> dict[str, Share]:
    """The minimum share per level from `processes/spot_check_shares.json` (the defaults,
    40 % and 15 %, where the file or a level is missing); a broken file is refused."""
    path = directory / SHARES_FILE
    raw: dict[str, Any] = {}
    if path.is_file():
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ValueError("应为对象")
        except ValueError as exc:
            problem = DefinitionProblem(SHARES_FILE, f"抽查比例配置有误：{exc}")
            raise DefinitionInvalid([problem]) from exc
    shares = {}
    for level in LEVELS:
        entry = raw.get(level) or {}
        percent = Decimal(str(entry.get("min_share_percent", DEFAULT_SHARES[level])))
        if not Decimal(0) < percent <= Decimal(100):
            message = f"抽查比例配置有误：{level} 的比例应大于 0 且不超过 100"
            raise DefinitionInvalid([DefinitionProblem(SHARES_FILE, message)])
        shares[level] = Share(level, percent, str(entry.get("basis") or ""))
    return shares


def required_count(share_percent: Decimal, candidates: int) -> int:
    """At least `share_percent` % of the candidates, rounded up: 40 % of 5 → 2, of 6 → 3."""
    return math.ceil(share_percent * candidates / Decimal(100))


def draw_positions(seed: int, candidates: int, count: int) -> list[int]:
    """The positions (0-based, ascending) the seed draws among `candidates` ordered ones."""
    return sorted(random.Random(seed).sample(range(candidates), count))


def draw(seed: int, ordered: Sequence[Any], count: int) -> list[Any]:
    return [ordered[i] for i in draw_positions(seed, len(ordered), count)]


def new_seed() -> int:
    return secrets.randbelow(SEED_LIMIT)


def candidate_order(candidate: dict[str, Any]) -> tuple[str, str]:
    """The stable key the draw orders candidates by: 办件编号, then the case id."""
    return (candidate.get("case_no") or "", candidate["instance_id"])
