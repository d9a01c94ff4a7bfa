"""Bad input gives a clear error or kind in its own result and never stops the batch."""
from __future__ import annotations

import json
from pathlib import Path

import docx
import pytest
from typer.testing import CliRunner

from gongkai.cli import app
from gongkai.extractors.pipeline import extract_file
from samples import REAL, SEEDS, seed


@pytest.fixture
def bad_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    pdf = (REAL / "huaian_city_gov_2024_annual_report.pdf").read_bytes()
    (folder / "truncated.pdf").write_bytes(pdf[: len(pdf) // 3])
    (folder / "junk.pdf").write_bytes(bytes(range(256)) * 40)
    (folder / "empty.txt").write_bytes(b"")
    lines = seed("004").read_text(encoding="utf-8").splitlines()
    gbk = "<html><body>" + "".join(f"<p>{line}</p>" for line in lines[:12] if line.strip()) + "</body></html>"
    (folder / "gbk_no_charset.html").write_bytes(gbk.encode("gbk"))
    document = docx.Document()
    document.add_paragraph("某某县人民政府办公室关于开展政务公开培训的通知")
    document.add_paragraph("各乡镇人民政府，县政府各部门：现将有关事项通知如下。")
    document.save(folder / "notice_no_tables.docx")
    guide = seed("000").read_text(encoding="utf-8").splitlines()[:60]
    (folder / "guide.txt").write_text("\n".join(guide), encoding="utf-8")
    (folder / "001.txt").write_bytes(seed("001").read_bytes())
    return folder


def test_each_bad_input_has_its_own_clear_result(bad_folder: Path) -> None:
    results = {p.name: extract_file(p) for p in sorted(bad_folder.iterdir())}
    assert results["truncated.pdf"].error.kind == "corrupt"
    assert results["junk.pdf"].error.kind == "corrupt"
    assert results["empty.txt"].error.kind == "empty"
    for name in ("truncated.pdf", "junk.pdf", "empty.txt"):
        assert results[name].error.message and not results[name].reports
    gbk = results["gbk_no_charset.html"]
    assert gbk.error is None
    assert gbk.reports[0].agency == "贺兰县卫生和计划生育局" and gbk.reports[0].year == 2017
    assert [r.kind for r in results["notice_no_tables.docx"].reports] == ["not-a-report"]
    assert [r.kind for r in results["guide.txt"].reports] == ["not-a-report"]
    assert len(results["001.txt"].reports[0].fields) == 200


def test_batch_goes_on_past_bad_files(bad_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    outcome = CliRunner().invoke(app, ["extract", str(bad_folder), "--out", str(out), "--no-progress"])
    assert outcome.exit_code == 0, outcome.output
    written = {p.name for p in out.iterdir()}
    assert written == {f"{p.name}.json" for p in bad_folder.iterdir()}
    good = json.loads((out / "001.txt.json").read_text(encoding="utf-8"))
    assert good["schema"] == "report-extraction/1" and good["error"] is None
    assert json.loads((out / "junk.pdf.json").read_text(encoding="utf-8"))["error"]["kind"] == "corrupt"


def test_every_bundled_seed_extracts_without_error() -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        assert extract_file(path).error is None, path.name
