"""The one cell grammar, and parsing a printed cell into a canonical value with notes.

classify_cell says what a cell is: blank, a dash, a number (sign, full-width digits,
thousands separators, a unit of patterns.yaml `number_units`) or a label. Every reader,
the OCR step and the row builder ask it, so `12万` is the same thing to all of them.
parse_value builds on it: blanks and dashes are null, and nothing is guessed: a cell
that is not a clean number gives null and a reason for review.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Literal

from gongkai.config import load_patterns
from gongkai.models.template import ValueType

from .text import nfkc

DASHES = {"—", "——", "-", "--", "/", "－", "–", "─", "━", "一", "\\", "无"}
NEGATIVE_SIGNS = ("-", "−")
CellKind = Literal["blank", "dash", "number", "label"]


@dataclass(frozen=True)
class CellToken:
    """What a cell's text is; for a number, its parts as printed (after NFKC)."""

    kind: CellKind
    text: str
    """the text NFKC-normalised and stripped"""
    number: Decimal | None = None
    """the number without sign, separators or unit"""
    sign: str = ""
    unit: str | None = None
    digits: str = ""
    """the digits as printed, separators kept"""

    @property
    def negative(self) -> bool:
        return self.sign in NEGATIVE_SIGNS

    @property
    def is_value(self) -> bool:
        """A number or a blank/dash, as opposed to a label."""
        return self.kind != "label"


@cache
def _number_grammar() -> re.Pattern[str]:
    units = "|".join(re.escape(u) for u in sorted(load_patterns()["number_units"], key=len, reverse=True))
    return re.compile(
        r"(?P<sign>[+\-−]?)\s*(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*"
        rf"(?P<unit>{units})?"
    )


@lru_cache(maxsize=65536)  # asked of every cell several times (rows, mapping, checks)
def classify_cell(text: str) -> CellToken:
    """The cell as blank, dash, number or label (NFKC folds full-width digits, signs and commas)."""
    cleaned = nfkc(text).strip()
    if cleaned == "":
        return CellToken("blank", cleaned)
    if cleaned in DASHES:
        return CellToken("dash", cleaned)
    match = _number_grammar().fullmatch(cleaned)
    if match is None:
        return CellToken("label", cleaned)
    number = Decimal(match["num"].replace(",", ""))
    return CellToken("number", cleaned, number, match["sign"], match["unit"], match["num"])


def is_value_text(text: str) -> bool:
    """A cell that holds a number or a blank/dash, as opposed to a label."""
    return classify_cell(text).is_value


def is_number_text(text: str) -> bool:
    """A cell that holds one number, with an optional unit."""
    return classify_cell(text).kind == "number"


def is_blank(text: str) -> bool:
    return classify_cell(text).kind in ("blank", "dash")


@dataclass
class ParsedValue:
    value: int | float | None
    ok: bool
    notes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def parse_value(raw: str, value_type: ValueType) -> ParsedValue:
    token = classify_cell(raw)
    if token.kind == "blank":
        return ParsedValue(None, True, reasons=["blank cell"])
    if token.kind == "dash":
        return ParsedValue(None, True, reasons=[f"dash cell ({raw.strip()}) read as no value"])
    if token.kind == "label" or token.number is None:
        return ParsedValue(None, False, reasons=[f"not a number: {raw.strip()!r}"])
    if token.unit == "%":
        return ParsedValue(None, False, reasons=[f"a percentage where a {value_type} is expected: {raw.strip()!r}"])
    notes = _normalisation_notes(raw, token)
    if value_type == "amount_wan":
        return _amount(token.number, token.unit, notes, token.negative)
    if token.unit == "万":
        return ParsedValue(None, False, notes, [f"unit 万 in a {value_type}: write the number itself"])
    return _integer(token.number, token.sign, value_type, notes)


def _normalisation_notes(raw: str, token: CellToken) -> list[str]:
    notes = []
    if raw.strip() != token.text:
        notes.append("full-width characters normalised")
    if "," in token.digits:
        notes.append("thousands separators removed")
    if token.unit:
        notes.append(f"unit {token.unit} read from the cell")
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
    if sign in NEGATIVE_SIGNS:
        value = -value
    if value_type == "count" and sign:
        return ParsedValue(value, False, notes, ["a signed number where a count is expected"])
    if value_type == "signed" and sign == "+":
        notes.append("explicit + sign")
    return ParsedValue(value, True, notes)
