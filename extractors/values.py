"""Parsing a printed cell into a canonical value, keeping what was done as notes.

Units inside cells (60.62万元), signs (+2, -1), full-width digits and thousands
separators are read; blanks and dashes are null. Nothing is guessed: text that is
not a clean number gives null and a reason for review.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from gongkai.models.template import ValueType

from .text import nfkc

DASHES = {"—", "——", "-", "--", "/", "－", "–", "─", "━", "一", "\\", "无"}
_NUMBER = re.compile(
    r"^(?P<sign>[+\-−]?)\s*(?P<num>\d{1,3}(?:[,，]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(?P<unit>万元|万|元|件|条|个|人次|人|次|篇|期|项)?$"
)


@dataclass
class ParsedValue:
    value: int | float | None
    ok: bool
    notes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def is_value_text(text: str) -> bool:
    """A cell that holds a number or a blank/dash, as opposed to a label."""
    cleaned = nfkc(text).strip()
    return cleaned == "" or cleaned in DASHES or _NUMBER.match(cleaned) is not None


def is_blank(text: str) -> bool:
    cleaned = nfkc(text).strip()
    return cleaned == "" or cleaned in DASHES


def parse_value(raw: str, value_type: ValueType) -> ParsedValue:
    text = nfkc(raw).strip()
    if text == "":
        return ParsedValue(None, True, reasons=["blank cell"])
    if text in DASHES:
        return ParsedValue(None, True, reasons=[f"dash cell ({raw.strip()}) read as no value"])
    match = _NUMBER.match(text)
    if not match:
        return ParsedValue(None, False, reasons=[f"not a number: {raw.strip()!r}"])
    notes = _normalisation_notes(raw, text, match)
    number = Decimal(match["num"].replace(",", "").replace("，", ""))
    negative = match["sign"] in ("-", "−")
    if value_type == "amount_wan":
        return _amount(number, match["unit"], notes, negative)
    if match["unit"] == "万":
        return ParsedValue(None, False, notes, [f"unit 万 in a {value_type}: write the number itself"])
    return _integer(number, match["sign"], value_type, notes)


def _normalisation_notes(raw: str, text: str, match: re.Match[str]) -> list[str]:
    notes = []
    if raw.strip() != text:
        notes.append("full-width characters normalised")
    if "," in match["num"] or "，" in match["num"]:
        notes.append("thousands separators removed")
    if match["unit"]:
        notes.append(f"unit {match['unit']} read from the cell")
    return notes


def _amount(number: Decimal, unit: str | None, notes: list[str], negative: bool) -> ParsedValue:
    reasons = ["negative amount"] if negative else []
    if unit == "元":
        number = number / Decimal(10000)
        notes.append("converted from 元 to 万元")
    elif unit not in (None, "万元", "万"):
        reasons.append(f"unexpected unit {unit} for an amount in 万元")
    value = float(-number if negative else number)
    return ParsedValue(value, not reasons, notes, reasons)


def _integer(number: Decimal, sign: str, value_type: ValueType, notes: list[str]) -> ParsedValue:
    try:
        integral = number == number.to_integral_value()
    except InvalidOperation:
        integral = False
    if not integral:
        return ParsedValue(float(number), False, notes, [f"a {value_type} must be a whole number"])
    value = int(number)
    if sign in ("-", "−"):
        value = -value
    if value_type == "count" and sign:
        return ParsedValue(value, False, notes, ["a signed number where a count is expected"])
    if value_type == "signed" and sign == "+":
        notes.append("explicit + sign")
    return ParsedValue(value, True, notes)
