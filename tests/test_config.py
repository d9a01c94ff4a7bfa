"""The ids of docs/canonical-fields.md are a contract: every one must be in config."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from gongkai.config import CONFIG_DIR, load_template, load_templates, load_thresholds

SPEC = Path(__file__).resolve().parent.parent / "docs" / "canonical-fields.md"


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    nxt = text.find("\n## ", start + 1)
    return text[start : nxt if nxt > 0 else None]


def _first_column_ids(section: str) -> list[str]:
    return [i for i in re.findall(r"^\| ([a-z_.]+) \|", section, flags=re.M) if i not in ("id", "template")]


def spec_ids() -> dict[str, set[str]]:
    text = SPEC.read_text(encoding="utf-8")
    active = set(_first_column_ids(_section(text, "## Table `active`")))
    requests_part = _section(text, "## Table `requests`")
    columns, rows = requests_part.split("Rows:")
    requests = {f"requests.{r}.{c}" for r in _first_column_ids(rows) for c in _first_column_ids(columns)}
    appeals_part = _section(text, "## Table `appeals`")
    groups, outcomes = appeals_part.split("| outcome id")
    appeals = {f"appeals.{g}.{o}" for g in _first_column_ids(groups) for o in _first_column_ids(outcomes)}
    legacy = set(_first_column_ids(_section(text, "## Table `legacy`")))
    return {"active": active, "requests": requests, "appeals": appeals, "legacy": legacy}


def test_spec_parsing_finds_every_table() -> None:
    ids = spec_ids()
    assert len(ids["active"]) == 29
    assert len(ids["requests"]) == 26 * 7
    assert len(ids["appeals"]) == 15
    assert len(ids["legacy"]) == 65


def test_every_spec_id_is_in_some_template() -> None:
    configured = {i for t in load_templates() for i in t.field_ids()}
    for table, ids in spec_ids().items():
        missing = ids - configured
        assert not missing, f"{table}: {sorted(missing)}"


def test_config_has_no_id_outside_the_spec() -> None:
    spec = set().union(*spec_ids().values())
    extra = {i for t in load_templates() for i in t.field_ids()} - spec
    assert not extra, sorted(extra)


def test_template_shapes_match_the_spec() -> None:
    gov2021, gov2019 = load_template("gov-2021"), load_template("gov-2019")
    assert len(gov2021.table("requests").field_ids()) == 182  # 25 rows + the one-row （六） variant
    assert len(gov2019.table("requests").field_ids()) == 161
    assert not any(".other.no_correction." in i for i in gov2019.field_ids())
    assert gov2021.table("appeals").field_ids() == gov2019.table("appeals").field_ids()


def test_thresholds_are_consistent() -> None:
    t = load_thresholds()
    assert 0 < t.label_match_min < t.accept <= 1
    assert all(0 < v <= 1 for v in t.source_confidence.values())


def test_routing_constants_are_written_in_thresholds_yaml() -> None:
    """Each constant that decides review is set in the YAML, where its comment says what it measures."""
    raw = yaml.safe_load((CONFIG_DIR / "thresholds.yaml").read_text(encoding="utf-8"))
    t = load_thresholds()
    assert set(raw["alignment"]) == set(type(t.alignment).model_fields)
    assert set(raw["field_confidence"]) == set(type(t.field_confidence).model_fields)
    assert t.doubted_cap < t.accept and t.field_confidence.position_in_doubt < t.accept
    assert t.alignment.skip_observed < t.alignment.skip_required_row <= 0
