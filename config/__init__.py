"""Templates, thresholds and patterns as data; this module only loads and validates them."""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from gongkai.models import Template, Thresholds

CONFIG_DIR = Path(__file__).parent
TEMPLATE_IDS = ("gov-2021", "gov-2019", "legacy-stat")


def _yaml(name: str) -> Any:
    with (CONFIG_DIR / name).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@cache
def load_template(template_id: str) -> Template:
    """A template with its shared tables (`use:`) and rules (`rules_from:`) resolved."""
    raw = _yaml(f"templates/{template_id}.yaml")
    shared = _yaml("templates/shared.yaml")
    shared_tables = {t["id"]: t for t in shared["tables"]}
    tables = []
    for entry in raw["tables"]:
        table = dict(shared_tables[entry["use"]]) if "use" in entry else dict(entry)
        table["rows"] = [r for r in table["rows"] if template_id in r.get("templates", [template_id])]
        tables.append(table)
    rules = list(raw.get("rules", [])) + (shared["rules"] if raw.get("rules_from") == "shared" else [])
    fields = {k: v for k, v in raw.items() if k not in ("tables", "rules", "rules_from")}
    return Template.model_validate({**fields, "tables": tables, "rules": rules})


def load_templates() -> list[Template]:
    return [load_template(t) for t in TEMPLATE_IDS]


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
