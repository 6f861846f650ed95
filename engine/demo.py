"""The demo organisation for `landflow demo` and the README's run command.

Usernames are predictable — `<dept type>.<region code>` (e.g. `zrzy.330702`, `ldxz.330700`,
`cwh.330702101201`) — and every demo password is `demo`, set only here."""

from __future__ import annotations

from typing import Any

from engine.domain.organisation import DEPARTMENT_TYPES
from engine.services.actor import SYSTEM
from engine.services.auth import hash_password
from engine.services.container import Landflow
from engine.services.organisation import DepartmentSpec, RegionSpec, UserSpec

DEMO_PASSWORD = "demo"
DEMO_TARGETS = "dispatch_targets.csv"  # 金华市's 2026 targets for the dispatch dashboard

# province → city → county → townships → villages
TREE: dict[tuple[str, str], Any] = {
    ("330000", "浙江省"): {
        ("330700", "金华市"): {
            ("330702", "婺城区"): {
                ("330702101", "白龙桥镇"): ["古方村", "筱溪村"],
                ("330702102", "汤溪镇"): ["寺平村", "下伊村"],
            },
            ("330782", "义乌市"): {
                ("330782101", "佛堂镇"): ["倍磊村", "田心村"],
                ("330782102", "苏溪镇"): ["胡宅村", "苏华村"],
            },
        },
        ("331000", "台州市"): {
            ("331003", "黄岩区"): {
                ("331003101", "院桥镇"): ["鉴洋湖村", "占堂村"],
                ("331003102", "沙埠镇"): ["佛岭村", "沙埠村"],
            },
        },
    },
    ("410000", "河南省"): {
        ("410500", "安阳市"): {
            ("410502", "文峰区"): {
                ("410502101", "高庄镇"): ["东高平村", "西高平村"],
                ("410502102", "宝莲寺镇"): ["宝莲寺村", "张村"],
            },
        },
    },
    ("220000", "吉林省"): {
        ("220100", "长春市"): {
            ("220112", "双阳区"): {
                ("220112101", "奢岭街道"): ["奢岭村", "营城村"],
                ("220112102", "鹿乡镇"): ["鹿乡村", "东风村"],
            },
        },
    },
}
PROVINCE_TYPES = ("ldxz", "fgw", "zrzy", "zf", "nync", "cz")
CITY_COUNTY_TYPES = (
    "zrzy",
    "fgw",
    "cz",
    "sw",
    "sthj",
    "zj",
    "nync",
    "sl",
    "jx",
    "ggzy",
    "bdc",
    "zf",
    "ldxz",
)
TOWNSHIP_TYPES = ("xz",)
VILLAGE_TYPES = ("dzz", "cwh", "jjzz", "cmxz", "applicant")
TYPES_AT = {
    "province": PROVINCE_TYPES,
    "city": CITY_COUNTY_TYPES,
    "county": CITY_COUNTY_TYPES,
    "township": TOWNSHIP_TYPES,
    "village": VILLAGE_TYPES,
}


def demo_regions() -> list[RegionSpec]:
    regions: list[RegionSpec] = []
    for (province, province_name), cities in TREE.items():
        regions.append(RegionSpec(province, province_name, "province"))
        for (city, city_name), counties in cities.items():
            regions.append(RegionSpec(city, city_name, "city", province))
            for (county, county_name), townships in counties.items():
                regions.append(RegionSpec(county, county_name, "county", city))
                for (township, township_name), villages in townships.items():
                    regions.append(RegionSpec(township, township_name, "township", county))
                    for number, village_name in enumerate(villages, start=201):
                        regions.append(
                            RegionSpec(f"{township}{number}", village_name, "village", township)
                        )
    return regions


def demo_departments(regions: list[RegionSpec]) -> list[DepartmentSpec]:
    return [
        DepartmentSpec(dept_type, region.code)
        for region in regions
        for dept_type in TYPES_AT[region.level]
    ]


def demo_users(regions: list[RegionSpec], departments: list[DepartmentSpec]) -> list[UserSpec]:
    names = {r.code: r.name for r in regions}
    password_hash = hash_password(DEMO_PASSWORD)  # one hash for all: the demo is not a secret
    users = [UserSpec("admin", "系统管理员", password_hash, (), is_admin=True)]
    for department in departments:
        code = f"{department.dept_type}.{department.region}"
        roles = (
            ("office", "supervisor", "handler")
            if department.dept_type == "ldxz"
            else ("handler", "approver")
        )
        users.append(
            UserSpec(
                code,
                f"{names[department.region]}{DEPARTMENT_TYPES[department.dept_type]}",
                password_hash,
                tuple((code, role) for role in roles),
            )
        )
    return users


def load_demo_organisation(lf: Landflow) -> dict[str, int]:
    regions = demo_regions()
    departments = demo_departments(regions)
    return lf.organisation.load(SYSTEM, regions, departments, demo_users(regions, departments))


def load_demo(lf: Landflow) -> dict[str, Any]:
    from engine.demo_cases import start_demo_cases

    counts = load_demo_organisation(lf)
    cases = start_demo_cases(lf)
    targets = lf.dispatch.seed_targets(lf.settings.processes_dir / "demo" / DEMO_TARGETS)
    return {
        "cases": {process: len(started) for process, started in cases.items()},
        "targets": targets,
        **counts,
        "password": DEMO_PASSWORD,
        "examples": [
            "admin",
            "zrzy.330702",
            "ldxz.330700",
            "xz.330702101",
            "cwh.330702101201",
            "applicant.330702101201",
        ],
    }
