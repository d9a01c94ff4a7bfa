"""Review fixtures made from a bundled sample: the rendered 2021 liaocheng HTML report with
one cell edited (本年新收 自然人 13 -> 31, which breaks two of the form's rules) and one
row label the template does not know (行政强制 -> 其他对外管理服务事项, an unmapped row)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from gongkai.extractors.pipeline import extract_file
from gongkai.models import ExtractionResult
from gongkai.review.service import ReviewService
from samples import ROOT

SAMPLE = ROOT / "samples" / "rendered" / "000_liaocheng_wjw_2021.html"
WRONG_CELL = "requests.new.natural_person"  # printed 31, the form's rules say 13
RULE_FIELDS = [  # the fields the two broken rules send to review besides the wrong cell
    "requests.new.commercial", "requests.new.research", "requests.new.public_interest",
    "requests.new.legal_service", "requests.new.other_org", "requests.new.total",
    "requests.carried_over.natural_person", "requests.total.natural_person",
    "requests.carried_forward.natural_person",
]
UNKNOWN_LABEL = "其他对外管理服务事项"
# The template row whose label the edit replaced: nothing vanishes, so its field is listed as
# not found (its row was not recognised) beside the unmapped printed row.
UNRECOGNISED_FIELD = "active.coercion.decisions"


def broken_html(folder: Path, name: str = "liaocheng-2021-edited.html", new_value: int = 31) -> Path:
    text = SAMPLE.read_text(encoding="utf-8")
    edited = re.sub(r"(一、本年新收政府信息公开申请数量</td>\s*<td>)13(<)", rf"\g<1>{new_value}\2", text, count=1)
    edited = edited.replace("<td>行政强制</td>", f"<td>{UNKNOWN_LABEL}</td>", 1)
    assert edited != text
    path = folder / name
    path.write_text(edited, encoding="utf-8")
    return path


@cache
def _broken_result_json(folder: str) -> str:
    return extract_file(broken_html(Path(folder))).to_json()


def broken_result(folder: Path) -> ExtractionResult:
    """The extraction of broken_html (cached: the same edit extracts the same)."""
    return ExtractionResult.model_validate_json(_broken_result_json(str(folder)))


@contextmanager
def service_with_broken_report(url: str, analytics: Path, samples_folder: Path) -> Iterator[ReviewService]:
    """A review service over a store holding the broken report (its analytics file beside)."""
    service = ReviewService(url, analytics)
    samples_folder.mkdir(exist_ok=True)
    service.store.save_result(broken_result(samples_folder))
    try:
        yield service
    finally:
        service.close()
