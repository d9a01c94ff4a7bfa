"""Plain-text rendering of a report's fields laid out as its template prints them."""
from __future__ import annotations

import unicodedata

from gongkai.config import load_template
from gongkai.extractors.completeness import is_missing
from gongkai.models import ExtractionResult, FieldValue, Report, TableSpec

MARKS = {"accepted": "", "needs_review": "?", "corrected": "✎"}
LEGEND = (
    "? needs review   · a blank cell   ? alone: not found in the document (or its row not recognised)   ✎ corrected"
)


def render_status(result: ExtractionResult) -> str | None:
    """A partial document's line and its page errors (what could not be read); None when complete."""
    if result.status != "partial":
        return None
    lines = [f"{result.source.name}: PARTIAL, {len(result.page_errors)} page error(s): "
             "what could not be read is missing below"]
    lines += [f"  page {e.page or '-'}: {e.stage}/{e.kind}: {e.message}" for e in result.page_errors]
    return "\n".join(lines)


def render_report(report: Report) -> str:
    head = f"{report.agency or '?'} {report.year or '?'} [{report.template or 'no template'}, {report.kind}]"
    if not report.template:
        return head + "\n  (no template table)"
    by_id = {f.id: f for f in report.fields}
    parts = [head]
    for spec in load_template(report.template).tables:
        if any(f.startswith(spec.id + ".") for f in by_id):
            parts.append(render_table(spec, by_id))
    failed = [c for c in report.checks if not c.ok]
    if failed:
        parts.append("failed checks:\n" + "\n".join(f"  {c.rule}: {c.detail}" for c in failed))
    parts.append(LEGEND)
    return "\n\n".join(parts)


def render_table(spec: TableSpec, by_id: dict[str, FieldValue]) -> str:
    if spec.layout == "indicator":
        header = ["统计指标", "统计数"]
        rows = [[r.label, _cell(by_id.get(spec.field_id(r, None)))] for r in spec.rows]
    else:
        columns = list(dict.fromkeys(c for r in spec.rows for c in spec.column_ids(r)))
        header = [spec.title] + [spec.column_label(c) for c in columns]
        rows = [
            [r.label] + [_cell(by_id.get(spec.field_id(r, c))) if c in spec.column_ids(r) else "" for c in columns]
            for r in spec.rows
        ]
    rows = [r for r in rows if any(r[1:])]
    return _grid([header] + rows)


def _cell(field: FieldValue | None) -> str:
    if field is None:
        return ""
    if is_missing(field) and field.status == "needs_review":
        return MARKS["needs_review"]
    shown = "·" if field.value is None else f"{field.value:g}" if isinstance(field.value, float) else str(field.value)
    return shown + MARKS[field.status]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _grid(rows: list[list[str]]) -> str:
    rows = [[_clip(c, 24 if k == 0 else 10) for k, c in enumerate(r)] for r in rows]
    widths = [max(_width(r[k]) for r in rows) for k in range(len(rows[0]))]
    lines = ["  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    out, used = "", 0
    for ch in text:
        used += _width(ch)
        if used > limit:
            return out + "…"
        out += ch
    return out
