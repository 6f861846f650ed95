"""What a case can be found by, as one normalised text: the case number, the matter, the
business key, the applicant, the names of its regions (province down to the village) and the
parcel and village fields of its data. A query is normalised the same way and every word of it
must occur."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

# data fields (at any depth: rows of tables too) that name a parcel or a village
SEARCHED_FIELDS = frozenset(
    {"parcel_code", "parcel_location", "village", "village_name", "land_ownership"}
)
MAX_LENGTH = 4000
SEPARATOR = " | "


def normalise(text: str) -> str:
    """Full-width letters and digits to half-width (NFKC), lower case, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def search_text(
    case_no: str | None,
    title: str | None,
    business_key: str | None,
    applicant: str | None,
    region_names: Iterable[str],
    data: dict[str, Any] | None,
) -> str:
    parts = [case_no, title, business_key, applicant, "".join(region_names)]
    parts.extend(_field_values(data or {}))
    seen: dict[str, None] = {}
    for part in parts:
        if part:
            seen.setdefault(normalise(str(part)), None)
    return SEPARATOR.join(seen)[:MAX_LENGTH]


def query_terms(query: str) -> list[str]:
    """The words of a search box entry, normalised; at most eight."""
    return [term for term in normalise(query).split(" ") if term][:8]


def _field_values(value: Any, key: str | None = None) -> list[str]:
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in _field_values(v, str(k))]
    if isinstance(value, list):
        return [found for item in value for found in _field_values(item, key)]
    if key in SEARCHED_FIELDS and isinstance(value, (str, int)) and not isinstance(value, bool):
        return [str(value)]
    return []
