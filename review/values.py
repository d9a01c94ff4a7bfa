"""A reviewer's value, checked against the field's type in its template.

Text goes through the extractors' own cell grammar (extractors/values.py), so `12万` and
`120000元` in a 万元 field read as they would in a document."""
from __future__ import annotations

from functools import cache

from gongkai.config import load_template
from gongkai.config import value_type_of as template_value_type
from gongkai.extractors.values import parse_value
from gongkai.models.report import Value

from .errors import InvalidValue


@cache
def value_types(template_id: str) -> dict[str, str]:
    """field id -> count | signed | amount_wan"""
    return {field_id: kind for table in load_template(template_id).tables for field_id, kind in table.typed_fields()}


def value_type_of(template_id: str | None, field_id: str) -> str:
    if template_id is None:  # a report without its template: the type any template gives the id
        return template_value_type(field_id) or "count"
    return value_types(template_id).get(field_id, "count")


def parse_reviewer_value(value: Value | str, value_type: str) -> Value:
    """The value to store, or InvalidValue saying what is wrong (nothing is saved)."""
    if isinstance(value, bool):
        raise InvalidValue("a value must be a number or empty, not true/false")
    if isinstance(value, str):
        parsed = parse_value(value, value_type)  # type: ignore[arg-type]
        if not parsed.ok:
            raise InvalidValue(f"{value.strip()!r} is not a valid {_name(value_type)}: {'; '.join(parsed.reasons)}")
        return parsed.value
    if value is None:
        return None
    if value_type == "amount_wan":
        if value < 0:
            raise InvalidValue(f"{value} is not a valid {_name(value_type)}: an amount cannot be negative")
        return float(value)
    if float(value) != int(value):
        raise InvalidValue(f"{value} is not a valid {_name(value_type)}: it must be a whole number")
    if value_type == "count" and value < 0:
        raise InvalidValue(f"{value} is not a valid {_name(value_type)}: a count cannot be negative")
    return int(value)


def _name(value_type: str) -> str:
    return {"count": "count (a whole number, 0 or more)", "signed": "whole number",
            "amount_wan": "amount in 万元"}.get(value_type, value_type)
