"""One key for one agency, however a report prints its name.

The key starts from the name in NFKC with everything but CJK letters, Latin letters and
digits removed (spacing, brackets and width never split one agency in two), then folds the
spellings one agency is printed with from year to year (config/patterns.yaml `agency_key`):

- an organ's short form becomes its long form (…委 → …委员会, …政府 → …人民政府);
- a region named alone is its government (平潭综合实验区 → 平潭综合实验区管委会);
- leading higher-level regions are dropped while the rest still names a county-level region
  and its organ (淮安市洪泽区人民政府 → 洪泽区人民政府; 淮安市人民政府 stays).

Two same-named counties of different cities then share a key when their reports omit the
city; the store's spellings and `gongkai agencies merge` are the operator's remedy for the
converse (one agency the matcher kept apart).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from gongkai.config import load_patterns

from .text import nfkc

_NOT_NAME = re.compile(r"[^0-9A-Za-z\u4e00-\u9fff]")


@dataclass(frozen=True, slots=True)
class AgencyName:
    """A name split into its leading regions and the organ after them."""

    regions: tuple[str, ...]
    organ: str

    @property
    def region(self) -> str | None:
        return "".join(self.regions) or None


def agency_key(name: str | None) -> str | None:
    if not name:
        return None
    text = _NOT_NAME.sub("", nfkc(name))
    if not text:
        return None
    rules = _rules()
    parsed = parse_agency_name(_long_organ(text, rules), rules)
    organ = parsed.organ
    if not organ and parsed.regions:
        organ = _government_of(parsed.regions[-1], rules)
    regions = list(parsed.regions)
    while len(regions) > 1 and _droppable(regions, organ, rules):
        regions.pop(0)
    return "".join(regions) + organ or None


def agency_region(name: str | None) -> str | None:
    """The regions a name begins with (淮安市洪泽区), or None."""
    if not name:
        return None
    return parse_agency_name(_NOT_NAME.sub("", nfkc(name)), _rules()).region


def parse_agency_name(text: str, rules: dict[str, Any] | None = None) -> AgencyName:
    rules = rules or _rules()
    regions: list[str] = []
    rest = text
    while True:
        region = _leading_region(rest, rules)
        if region is None:
            return AgencyName(tuple(regions), rest)
        regions.append(region)
        rest = rest[len(region):]


def _leading_region(text: str, rules: dict[str, Any]) -> str | None:
    """The first region a name begins with: a stem (no organ words in it) and a region suffix,
    not followed by another suffix (杭州市, not 杭州 + 市…).

    Of the prefixes that qualify, the shortest one after which an organ or another region
    follows; else the shortest."""
    ends = [end for end in range(2, len(text) + 1)
            if _is_region(text[:end], rules) and not _continues(text[end:], rules)]
    for end in ends:
        rest = text[end:]
        if _is_organ_start(rest, rules) or _leading_region(rest, rules) is not None:
            return text[:end]
    return text[: ends[0]] if ends else None


def _is_region(prefix: str, rules: dict[str, Any]) -> bool:
    suffix = next((s for s in rules["region_suffixes"] if prefix.endswith(s) and len(prefix) > len(s)), None)
    return suffix is not None and not any(word in prefix[: -len(suffix)] for word in rules["not_in_region"])


def _continues(rest: str, rules: dict[str, Any]) -> bool:
    """A suffix right after a suffix is one name (杭州市, not 杭州 + 市…)."""
    return any(rest.startswith(suffix) for suffix in rules["region_suffixes"])


def _is_organ_start(rest: str, rules: dict[str, Any]) -> bool:
    return not rest or any(rest.startswith(o) for o in rules["government_organs"])


def _droppable(regions: list[str], organ: str, rules: dict[str, Any]) -> bool:
    """Drop regions[0] if the next region is county level or above and, with the organ after
    it, still names one organ: its government, or a department when its stem is long enough."""
    following = regions[1]
    level = next((s for s in rules["region_suffixes"] if following.endswith(s)), None)
    if level is None or level not in rules["droppable_before"]:
        return False
    if len(regions) > 2 or organ in rules["government_organs"]:
        return True
    return len(following) - len(level) >= rules["department_min_stem"] and len(organ) >= 2


def _government_of(region: str, rules: dict[str, Any]) -> str:
    table = rules["region_government"]
    suffix = next((s for s in rules["region_suffixes"] if region.endswith(s) and s in table), "*")
    return table[suffix]


def _long_organ(text: str, rules: dict[str, Any]) -> str:
    for short, long in sorted(rules["organ_forms"].items(), key=lambda kv: len(kv[0]), reverse=True):
        if text.endswith(long):
            return text
        if text.endswith(short):
            return text[: -len(short)] + long
    return text


@cache
def _rules() -> dict[str, Any]:
    return load_patterns()["agency_key"]
