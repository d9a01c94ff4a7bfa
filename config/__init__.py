"""Templates, thresholds and patterns as data; this module only loads and validates them."""
from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from gongkai.models import Template, Thresholds, ValueType

CONFIG_DIR = Path(__file__).parent
# A folder of templates other than config/templates/ (a test's own, a revision being drafted).
TEMPLATES_DIR_ENV = "GONGKAI_TEMPLATES_DIR"


def _yaml(name: str) -> Any:
    return _read_yaml(CONFIG_DIR / name)


def _read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def templates_dir() -> Path:
    """Where templates are discovered: $GONGKAI_TEMPLATES_DIR, else config/templates/."""
    return Path(os.environ.get(TEMPLATES_DIR_ENV) or CONFIG_DIR / "templates")


def load_templates(directory: Path | None = None) -> list[Template]:
    """Every template of the folder (docs/new-template-revision.md), newest form first.

    A template is a `*.yaml` file of the folder without `kind: shared`; a shared file holds
    tables (`use:`) and rules (`rules_from:`) that templates take. The order is by first
    report year, latest first, then id: detection takes the first of equal scores.
    """
    return list(_discover(Path(directory or templates_dir())))


def load_template(template_id: str, directory: Path | None = None) -> Template:
    """A template with its shared tables (`use:`) and rules (`rules_from:`) resolved."""
    found = next((t for t in load_templates(directory) if t.id == template_id), None)
    if found is None:
        raise KeyError(f"no template {template_id!r} in {directory or templates_dir()}")
    return found


def template_ids(directory: Path | None = None) -> tuple[str, ...]:
    """The discovered template ids, in detection order."""
    return tuple(t.id for t in load_templates(directory))


def table_ids(directory: Path | None = None) -> tuple[str, ...]:
    """Every template table's id, once, in detection order (the analytics store's wide tables)."""
    return tuple(dict.fromkeys(table.id for t in load_templates(directory) for table in t.tables))


def section_cues(directory: Path | None = None) -> Mapping[str, list[str]]:
    """Each template table's section cues (label-key patterns that start it), by table id.

    Every table of every template counts, as one: a heading starts its table whichever form
    the report turns out to be."""
    return _section_cues(Path(directory or templates_dir()))


@cache
def _section_cues(directory: Path) -> Mapping[str, list[str]]:  # asked for every label cell
    cues: dict[str, list[str]] = {}
    for template in _discover(directory):
        for table in template.tables:
            cues[table.id] = list(dict.fromkeys([*cues.get(table.id, []), *table.section_cues]))
    return cues


def value_type_of(field_id: str, directory: Path | None = None) -> ValueType | None:
    """A field's value type (count, signed, amount_wan) from the template that has it."""
    return _field_types(Path(directory or templates_dir())).get(field_id)


def amount_field_ids(directory: Path | None = None) -> frozenset[str]:
    """Fields holding amounts in 万元: decimals, never read back as counts."""
    return _amount_ids(Path(directory or templates_dir()))


@cache
def _amount_ids(directory: Path) -> frozenset[str]:  # the store asks for every value it reads
    return frozenset(i for i, kind in _field_types(directory).items() if kind == "amount_wan")


@cache
def _field_types(directory: Path) -> dict[str, ValueType]:
    types: dict[str, ValueType] = {}
    for template in _discover(directory):
        for table in template.tables:
            for field_id, kind in table.typed_fields():
                if types.setdefault(field_id, kind) != kind:
                    raise ValueError(f"{field_id} is {types[field_id]} in one template and {kind} in {template.id}")
    return types


@cache
def _discover(directory: Path) -> tuple[Template, ...]:
    raws = {path: _read_yaml(path) for path in sorted(directory.glob("*.yaml"))}
    shared = {path.stem: raw for path, raw in raws.items() if raw.get("kind") == "shared"}
    templates = [_resolve(path, raw, shared) for path, raw in raws.items() if raw.get("kind") != "shared"]
    ids = [t.id for t in templates]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"template ids used twice in {directory}: {dupes}")
    return tuple(sorted(templates, key=lambda t: (-t.years[0], t.id)))


def _resolve(path: Path, raw: dict[str, Any], shared: dict[str, dict[str, Any]]) -> Template:
    template_id = raw.get("id")
    if template_id != path.stem:
        raise ValueError(f"{path.name}: id {template_id!r} is not the file's name")
    shared_tables = {t["id"]: t for s in shared.values() for t in s.get("tables", [])}
    tables = []
    for entry in raw["tables"]:
        table = dict(shared_tables[entry["use"]]) if "use" in entry else dict(entry)
        table["rows"] = [r for r in table["rows"] if template_id in r.get("templates", [template_id])]
        tables.append(table)
    rules = list(raw.get("rules", []))
    if raw.get("rules_from"):
        rules += shared[raw["rules_from"]].get("rules", [])
    fields = {k: v for k, v in raw.items() if k not in ("tables", "rules", "rules_from", "kind")}
    return Template.model_validate({**fields, "tables": tables, "rules": rules})


@cache
def load_thresholds() -> Thresholds:
    return Thresholds.model_validate(_yaml("thresholds.yaml"))


@cache
def load_patterns() -> dict[str, Any]:
    return _yaml("patterns.yaml")


@cache
def load_narrative() -> dict[str, Any]:
    """The phrases, guards and fields of the narrative cross-checks (extractors/narrative.py)."""
    return _yaml("narrative.yaml")


@cache
def load_anomaly_settings() -> dict[str, Any]:
    """What counts as a year-over-year anomaly (extractors/anomalies.py)."""
    return _yaml("anomalies.yaml")


@cache
def load_plot_charts() -> list[dict[str, Any]]:
    """The charts `gongkai plot` draws (config/plots.yaml)."""
    return _yaml("plots.yaml")["charts"]


@cache
def load_ocr_settings() -> dict[str, Any]:
    return _yaml("ocr.yaml")


@cache
def load_cross_year_rules() -> list[dict[str, Any]]:
    """config/cross_year.yaml's rules as written (extractors/cross_year.py expands them)."""
    return list(_yaml("cross_year.yaml")["cross_year"])
