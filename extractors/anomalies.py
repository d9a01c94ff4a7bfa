"""Year-over-year anomalies of an agency's numbers: information for analysts, not routing.

Over the values analysts see (accepted and corrected), per agency and field, year by year:
a jump by an order of magnitude, a fall to zero from a steady level, and a year whose total
disagrees with the sum of its parts (the form's rules on the stored values: a person's
correction of one term can leave its total behind). Thresholds: config/anomalies.yaml.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from gongkai.config import load_anomaly_settings, load_template, template_ids
from gongkai.models.analytics import Anomaly, AnomalyKind, Number, SeriesPoint

from .checks import expand_rule, format_number


def find_anomalies(points: Iterable[SeriesPoint]) -> list[Anomaly]:
    """Every anomaly of every agency, by agency, field and year. One point per (agency, year,
    field) is expected: the caller picks which report of a year speaks for it."""
    series: dict[tuple[str, str], list[SeriesPoint]] = defaultdict(list)
    years: dict[tuple[str, int], list[SeriesPoint]] = defaultdict(list)
    for point in points:
        series[(point.agency_key, point.field_id)].append(point)
        years[(point.agency_key, point.year)].append(point)
    settings = load_anomaly_settings()
    found: list[Anomaly] = []
    for key in sorted(series):
        ordered = sorted(series[key], key=lambda p: p.year)
        found += _jumps(ordered, settings) + _falls_to_zero(ordered, settings)
    for year_key in sorted(years):
        found += _totals_vs_parts(years[year_key])
    return sorted(found, key=lambda a: (a.agency_key, a.field_id, a.year, a.kind))


def _jumps(ordered: list[SeriesPoint], settings: dict) -> list[Anomaly]:
    factor, floor = float(settings["jump_factor"]), float(settings["jump_min"])
    out = []
    for before, now in zip(ordered, ordered[1:]):
        low, high = sorted((abs(before.value), abs(now.value)))
        if low > 0 and high >= floor and high >= factor * low:
            direction = "up" if abs(now.value) > abs(before.value) else "down"
            detail = (
                f"{format_number(before.value)} in {before.year} → {format_number(now.value)} in {now.year} "
                f"({direction} ≥{format_number(factor)}×)"
            )
            out.append(_anomaly(now, "jump", before.value, detail))
    return out


def _falls_to_zero(ordered: list[SeriesPoint], settings: dict) -> list[Anomaly]:
    steady_years, steady_min = int(settings["zero_after_years"]), float(settings["zero_steady_min"])
    out = []
    for k, now in enumerate(ordered):
        history = ordered[max(0, k - steady_years):k]
        if now.value == 0 and len(history) == steady_years and all(p.value >= steady_min for p in history):
            shown = ", ".join(f"{format_number(p.value)} ({p.year})" for p in history)
            out.append(_anomaly(now, "fall_to_zero", history[-1].value, f"0 in {now.year} after {shown}"))
    return out


def _totals_vs_parts(points: list[SeriesPoint]) -> list[Anomaly]:
    """The form's rules on one agency-year's stored values, where every term is stored."""
    by_id = {p.field_id: p for p in points}
    template = next((p.template for p in points if p.template in template_ids()), None)
    if template is None:
        return []
    out = []
    for rule in load_template(template).rules:
        for concrete in expand_rule(rule):
            terms = concrete.lhs + concrete.rhs
            if not all(t in by_id for t in terms):
                continue
            total = sum(by_id[t].value for t in concrete.lhs)
            parts = sum(by_id[t].value for t in concrete.rhs)
            if abs(total - parts) > 1e-6:
                head = by_id[concrete.lhs[0]]
                detail = (
                    f"{concrete.id}: {' + '.join(concrete.lhs)} = {format_number(total)}, "
                    f"parts sum to {format_number(parts)}"
                )
                out.append(_anomaly(head, "total_vs_parts", None, detail))
    return out


def _anomaly(point: SeriesPoint, kind: AnomalyKind, previous: Number | None, detail: str) -> Anomaly:
    return Anomaly(point.agency_key, point.year, point.field_id, kind, point.value, previous, detail, point.report_key)
