"""The report and item pages of a scanned input: the page image with every cell outlined in
its pixels, and the crop of a flagged cell (a real OCR extraction of a bundled screenshot)."""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from review_app import make_store, served_with_users
from test_review_web import login

from gongkai.review.web.rendering import png_size
from samples import ROOT

SCAN = ROOT / "samples" / "scans" / "003_changle_wjj_2021_screenshot.png"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("scan")
    with served_with_users(*make_store(folder, [SCAN])) as url:
        yield url


def test_report_page_outlines_every_cell_on_the_scanned_page(base: str) -> None:
    client = login(base, "rita")
    groups = client.get("/api/queue/groups").json()["groups"]
    report_id = groups[0]["report_id"] if groups else 1
    view = client.get(f"/api/reports/{report_id}").json()
    assert view["source_kind"] == "scan" and view["pages"]
    page = view["pages"][0]
    image = client.get(f"/reports/{report_id}/pages/{page}")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    width, height = png_size(image.content)
    html = client.get(f"/reports/{report_id}").text
    assert f'viewBox="0 0 {width} {height}"' in html
    boxed = [c for c in view["cells"] if c["page"] == page and c["bbox"]]
    rects = re.findall(r'<rect class="status-(\w+)" x="([\d.]+)" y="([\d.]+)"', html)
    assert len(rects) == len(boxed) > 100
    assert all(0 <= float(x) <= width and 0 <= float(y) <= height for _, x, y in rects)


def test_flagged_scanned_cell_has_its_crop(base: str) -> None:
    client = login(base, "rita")
    items = [i for i in client.get("/api/queue").json()["items"] if i["kind"] == "field"]
    with_crop = [i for i in items if client.get(f"/api/items/{i['id']}").json()["has_crop"]]
    if not items:
        pytest.skip("every field of this scan was accepted: no crop to show")
    assert with_crop, "a scanned field sent to review without its crop"
    item = with_crop[0]
    assert f'src="/items/{item["id"]}/crop"' in client.get(f"/items/{item['id']}").text
    crop = client.get(f"/items/{item['id']}/crop")
    assert crop.status_code == 200 and png_size(crop.content) is not None
