"""The one cell grammar: what a cell is, and that the OCR step and the row builder agree on it."""
from decimal import Decimal

import pytest

from gongkai.config import load_patterns
from gongkai.extractors.rows import logical_rows
from gongkai.extractors.scan.cells import reading_token, reads_as_number
from gongkai.extractors.values import DASHES, classify_cell, parse_value
from gongkai.models import Cell, Table

# (printed cell, kind, number, unit, sign)
CASES: list[tuple[str, str, str | None, str | None, str]] = [
    ("", "blank", None, None, ""),
    ("   ", "blank", None, None, ""),
    ("\u3000", "blank", None, None, ""),
    *[(dash, "dash", None, None, "") for dash in sorted(DASHES)],
    ("0", "number", "0", None, ""),
    ("1.5", "number", "1.5", None, ""),
    ("22881", "number", "22881", None, ""),
    ("１２", "number", "12", None, ""),
    ("１２．５", "number", "12.5", None, ""),
    ("+2", "number", "2", None, "+"),
    ("＋2", "number", "2", None, "+"),
    ("-1", "number", "1", None, "-"),
    ("−1", "number", "1", None, "−"),
    ("1,234", "number", "1234", None, ""),
    ("1，234", "number", "1234", None, ""),
    ("13,575,394.52", "number", "13575394.52", None, ""),
    ("12万", "number", "12", "万", ""),
    ("60.62万元", "number", "60.62", "万元", ""),
    ("60.62 万元", "number", "60.62", "万元", ""),
    ("12 件", "number", "12", "件", ""),
    *[(f"7{unit}", "number", "7", unit, "") for unit in load_patterns()["number_units"]],
    ("5％", "number", "5", "%", ""),
    ("第二十条第（一）项", "label", None, None, ""),
    ("2021年", "label", None, None, ""),
    ("1.属于国家秘密", "label", None, None, ""),
    ("3. 其他", "label", None, None, ""),
    ("约20", "label", None, None, ""),
    ("结果 维持", "label", None, None, ""),
    ("1,2345", "label", None, None, ""),
    ("12条/期", "label", None, None, ""),
]


@pytest.mark.parametrize(("text", "kind", "number", "unit", "sign"), CASES)
def test_classify_cell(text: str, kind: str, number: str | None, unit: str | None, sign: str) -> None:
    token = classify_cell(text)
    assert token.kind == kind
    assert token.number == (Decimal(number) if number is not None else None)
    assert token.unit == unit
    assert token.sign == sign


def _row_builder_kind(text: str) -> str:
    """How rows.py sees the cell: after the row's label it is a value or a second label."""
    table = Table(cells=[Cell(row=0, col=0, text="合计"), Cell(row=0, col=1, text=text)], n_rows=1, n_cols=2)
    (row,) = logical_rows([table])
    return "label" if len(row.labels) == 2 else "value"


@pytest.mark.parametrize(("text", "kind"), [(text, kind) for text, kind, *_ in CASES if text.strip()])
def test_ocr_and_rows_agree(text: str, kind: str) -> None:
    ocr = reading_token(text)
    assert ocr.kind == kind
    assert _row_builder_kind(text) == ("label" if kind == "label" else "value")
    if kind == "number":
        assert reads_as_number(text)


@pytest.mark.parametrize("text", ["第二十条第（一）项", "2021年", "1.属于国家秘密", "3.其他", "约20"])
def test_labels_with_digits_are_no_numbers_to_the_ocr(text: str) -> None:
    assert not reads_as_number(text)


def test_parse_value_reads_the_lexers_parts() -> None:
    assert parse_value("12万", "amount_wan").value == 12.0
    assert parse_value("12万", "count").ok is False  # 万 in a count: written out, not multiplied
    assert parse_value("7件", "count").value == 7
    assert parse_value("5%", "count").ok is False
    assert parse_value("2021年", "count").reasons == ["not a number: '2021年'"]
