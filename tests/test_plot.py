"""`gongkai plot`: an agency's series as PNGs and an escaped HTML page, the same bytes every
run; corrected and in-review points marked; the review app's report page shows the series."""
from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from review_app import PASSWORDS, make_store, served_with_users
from typer.testing import CliRunner

from gongkai.cli import app
from gongkai.plot import charts_for, write_plots
from gongkai.store.analytics_views import PanelPoint
from samples import ROOT, seed

AGENCY = "聊城市卫生健康委员会"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def analytics(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seed 000: 聊城 2019–2023, the seed agency with the most years."""
    _, path = make_store(tmp_path_factory.mktemp("plot"), [seed("000")])
    return path


def test_plot_draws_the_agency_with_the_most_years(analytics: Path, tmp_path: Path) -> None:
    answer = CliRunner().invoke(app, ["plot", AGENCY, "--out", str(tmp_path / "a"), "--analytics", str(analytics)])
    assert answer.exit_code == 0, answer.output
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["active.png", "appeals.png", "index.html", "outcomes.png", "requests.png"]
    for png in (tmp_path / "a").glob("*.png"):
        assert png.read_bytes().startswith(PNG)
    page = (tmp_path / "a" / "index.html").read_text(encoding="utf-8")
    assert AGENCY in page and "2019–2023" in page
    # the table under the charts: 聊城's new requests year by year, as stored
    received = re.findall(r"<td>received \(new\)</td><td>(\d{4})</td><td>(\d+)</td>", page)
    assert received == [("2019", "15"), ("2020", "11"), ("2021", "13"), ("2022", "18"), ("2023", "11")]
    # and the agency's anomalies: 行政处罚 decisions 612 (2022) → 29 (2023), as printed
    assert "<td>2023</td><td>active.penalty.decisions</td><td>jump</td><td>612 in 2022 → 29 in 2023" in page
    # the same bytes on a second run (no timestamps, no machine fonts)
    CliRunner().invoke(app, ["plot", AGENCY, "--out", str(tmp_path / "b"), "--analytics", str(analytics)])
    for png in (tmp_path / "a").glob("*.png"):
        assert (tmp_path / "b" / png.name).read_bytes() == png.read_bytes()


def test_plot_of_chosen_fields_and_of_an_unknown_agency(analytics: Path, tmp_path: Path) -> None:
    answer = CliRunner().invoke(app, ["plot", AGENCY, "--fields", "appeals.review.total,appeals.suit_direct.total",
                                      "--out", str(tmp_path), "--analytics", str(analytics)])
    assert answer.exit_code == 0, answer.output
    assert (tmp_path / "fields.png").read_bytes().startswith(PNG)
    answer = CliRunner().invoke(app, ["plot", "no such agency", "--out", str(tmp_path), "--analytics", str(analytics)])
    assert answer.exit_code == 1 and "no stored reports" in answer.output


def _point(year: int, field_id: str, value: float, status: str, agency: str = "<b>x</b>") -> PanelPoint:
    return PanelPoint(agency, agency, year, field_id, value, status, status == "corrected", f"k:{year}")


def test_points_carry_their_status_and_text_is_escaped(tmp_path: Path) -> None:
    points = [
        _point(2020, "requests.new.total", 5, "accepted"),
        _point(2021, "requests.new.total", 7, "corrected"),
        _point(2022, "appeals.suit_direct.total", 1, "accepted"),
        _point(2022, "appeals.suit_after_review.total", 2, "needs_review"),
    ]
    charts = {c.id: c for c in charts_for(points)}
    received = next(s for s in charts["requests"].series if s.label == "received (new)")
    assert [(v.year, v.value, v.status) for v in received.values] == [(2020, 5, "accepted"), (2021, 7, "corrected")]
    suits = next(s for s in charts["appeals"].series if s.label == "suits")
    assert [(v.year, v.value, v.status) for v in suits.values] == [(2022, 3, "needs_review")]  # the worse status
    write_plots("<b>x</b>", points, tmp_path)
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_the_report_page_shows_its_agency_series(tmp_path: Path) -> None:
    rendered = ROOT / "samples" / "rendered"
    url, analytics = make_store(
        tmp_path, [rendered / "000_liaocheng_wjw_2021.html", rendered / "000_liaocheng_wjw_2022.html"]
    )
    with served_with_users(url, analytics) as base:
        with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as anonymous:
            assert anonymous.get("/reports/1/series.png").status_code == 303  # to the login page
        client = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
        token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"name": "rita", "password": PASSWORDS["rita"], "csrf": token})
        page = client.get("/reports/1")
        assert page.status_code == 200 and 'id="agency-series"' in page.text and "2021–2022" in page.text
        image = client.get("/reports/1/series.png")
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert image.content.startswith(PNG)
        client.close()
