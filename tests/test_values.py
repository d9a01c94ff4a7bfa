import pytest

from gongkai.extractors.text import label_key, label_similarity
from gongkai.extractors.values import is_value_text, parse_value


@pytest.mark.parametrize(
    ("raw", "kind", "value", "ok"),
    [
        ("0", "count", 0, True),
        ("22881", "count", 22881, True),
        ("１２", "count", 12, True),
        ("1,234", "count", 1234, True),
        (" 7 ", "count", 7, True),
        ("+2", "signed", 2, True),
        ("-1", "signed", -1, True),
        ("60.62万元", "amount_wan", 60.62, True),
        ("1480.8758万元", "amount_wan", 1480.8758, True),
        ("62.67886", "amount_wan", 62.67886, True),
        ("13575394432.52元", "amount_wan", 1357539.443252, True),
        ("", "count", None, True),
        ("—", "count", None, True),
        ("/", "count", None, True),
        ("-1", "count", -1, False),  # a sign in a count is flagged, never dropped
        ("3.5", "count", 3.5, False),
        ("约20", "count", None, False),
    ],
)
def test_parse_value(raw: str, kind: str, value: object, ok: bool) -> None:
    parsed = parse_value(raw, kind)  # type: ignore[arg-type]
    assert parsed.value == (pytest.approx(value) if isinstance(value, float) else value)
    assert parsed.ok is ok
    if not ok:
        assert parsed.reasons


def test_blank_and_dash_give_a_reason_not_zero() -> None:
    assert parse_value("", "count").reasons == ["blank cell"]
    assert parse_value("—", "count").value is None


def test_value_text_versus_label() -> None:
    assert is_value_text("0") and is_value_text("") and is_value_text("60.62万元")
    assert not is_value_text("3. 其他") and not is_value_text("结果 维持") and not is_value_text("3.")


def test_label_key_drops_width_spaces_punctuation_enumerators() -> None:
    assert label_key("(二) 部分公开 (区分处理的, 只计这一情形, 不计其他情形)") == label_key(
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"
    )
    assert label_key("自 然 人") == "自然人"
    assert label_key("3、其他") == label_key("3.其他") == "其他"


def test_label_similarity() -> None:
    assert label_similarity("（三）不予公开 1.属于国家秘密", "1.属于国家秘密") >= 0.95
    assert label_similarity("2.其他法律行政止公开", "2.其他法律行政法规禁止公开") < 0.9
    assert label_similarity("行政许可", "行政处罚") < 0.62
