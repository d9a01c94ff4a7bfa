"""An agency's 年报 listing page (the real Pingtan TRS page) is not a report; the report pages
it links to still are."""
from __future__ import annotations

from pathlib import Path

import pytest

from gongkai.extractors.pipeline import extract_file

REAL = Path(__file__).resolve().parents[1] / "samples" / "real"


def test_a_listing_of_several_years_reports_is_not_a_report() -> None:
    result = extract_file(REAL / "pingtan_listing_page.html")
    assert result.error is None
    assert [r.kind for r in result.reports] == ["not-a-report"]


@pytest.mark.parametrize("name", ["pingtan_2017_report_page.txt", "pingtan_2019_report_page.txt",
                                  "pingtan_2021_report_page.txt", "pingtan_2024_report_page.txt"])
def test_the_report_pages_it_links_to_are_reports(name: str) -> None:
    kinds = {r.kind for r in extract_file(REAL / name).reports}
    assert kinds and kinds <= {"narrative", "tabular"}, kinds
