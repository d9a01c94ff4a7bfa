"""A new State Council form revision is one new YAML file plus its tests.

The test follows docs/new-template-revision.md as written: it copies config/templates/ into a
temporary folder, adds the how-to's example file (a made-up revision, gov-2099) there, points
GONGKAI_TEMPLATES_DIR at it, and extracts and stores a small report printed on that form.
The package's config/ is never touched. The last test keeps template ids out of the package's
Python.
"""
from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gongkai.config import (
    CONFIG_DIR,
    TEMPLATES_DIR_ENV,
    amount_field_ids,
    load_template,
    load_templates,
    section_cues,
    template_ids,
    value_type_of,
)
from gongkai.extractors.pipeline import extract_file
from gongkai.models import Report
from gongkai.store.operational import OperationalStore

ROOT = Path(__file__).resolve().parent.parent
HOW_TO = ROOT / "docs" / "new-template-revision.md"
# The how-to's example file, as printed there: the page works as written or this test fails.
NEW_TEMPLATE = re.search(r"```yaml\n(.*?)```", HOW_TO.read_text(encoding="utf-8"), flags=re.S).group(1)
# An integral amount (1) comes back from the store as a float all the same: its type says so.
ROWS = [("数据集", "12", "-30", "1"), ("数据接口", "3", "10", "2.75"), ("合计", "15", "-20", "3.75")]
REPORT_HTML = """\
<html><head><meta charset="utf-8"><title>某市数据局2099年政府信息公开工作年度报告</title></head><body>
<h1>某市数据局2099年政府信息公开工作年度报告</h1>
<p>根据《中华人民共和国政府信息公开条例》，某市数据局编制本报告。</p>
<h2>二、公共数据开放情况</h2>
<table>
<tr><td>数据类别</td><td>本年新增数据集数量</td><td>开放数据下载次数增减</td><td>数据开放经费（万元）</td></tr>
{rows}
</table>
<p>三、存在的主要问题及改进情况</p>
</body></html>
"""


@pytest.fixture
def templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """config/templates/ copied, plus the new revision's one file (the how-to's steps 1 and 2)."""
    folder = tmp_path / "templates"
    shutil.copytree(CONFIG_DIR / "templates", folder)
    (folder / "gov-2099.yaml").write_text(NEW_TEMPLATE, encoding="utf-8")
    monkeypatch.setenv(TEMPLATES_DIR_ENV, str(folder))
    yield folder


def _report_file(tmp_path: Path) -> Path:
    rows = "\n".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in ROWS)
    path = tmp_path / "gov2099.html"
    path.write_text(REPORT_HTML.format(rows=rows), encoding="utf-8")
    return path


def test_the_new_file_is_discovered(templates: Path) -> None:
    assert template_ids() == ("gov-2099", *template_ids(CONFIG_DIR / "templates"))
    template = load_template("gov-2099")
    assert template.table("open_data").field_ids()[:3] == [
        "open_data.datasets.added", "open_data.datasets.downloads_change", "open_data.datasets.funding_wan"]
    assert section_cues()["open_data"] == ["公共数据开放情况$"]
    assert value_type_of("open_data.total.funding_wan") == "amount_wan"
    assert value_type_of("open_data.total.downloads_change") == "signed"
    assert value_type_of("open_data.total.added") == "count"
    assert "open_data.total.funding_wan" in amount_field_ids()
    assert Report(kind="tabular", template="gov-2099").template == "gov-2099"


def test_the_package_folder_does_not_know_it(templates: Path) -> None:
    assert "gov-2099" not in template_ids(CONFIG_DIR / "templates")
    with pytest.raises(ValueError, match="unknown template"):
        Report.model_validate({"kind": "tabular", "template": "gov-2098"})


def test_a_file_is_named_after_its_template(templates: Path) -> None:
    (templates / "gov-2099.yaml").rename(templates / "gov-2100.yaml")
    with pytest.raises(ValueError, match="not the file's name"):
        load_templates()


def test_a_shared_file_is_no_template(templates: Path) -> None:
    assert "kind: shared" in (templates / "shared.yaml").read_text(encoding="utf-8")
    assert "shared" not in template_ids()
    assert load_template("gov-2021").table("appeals") is not None  # its tables reach the templates


def test_a_report_on_the_new_form_is_extracted_and_stored(templates: Path, tmp_path: Path) -> None:
    result = extract_file(_report_file(tmp_path))
    assert result.error is None, result.error
    (report,) = [r for r in result.reports if r.kind == "tabular"]
    assert (report.template, report.year) == ("gov-2099", 2099)
    values = {f.id: f.value for f in report.fields}
    assert values == {
        f"open_data.{row}.{column}": value
        for row, (_label, added, change, budget) in zip(("datasets", "interfaces", "total"), ROWS)
        for column, value in zip(("added", "downloads_change", "funding_wan"), (int(added), int(change), float(budget)))
    }
    checks = {c.rule: c.ok for c in report.checks if c.rule.startswith("open_data.")}
    assert checks == {"open_data.total.added": True, "open_data.total.downloads_change": True,
                      "open_data.total.funding_wan": True}

    with OperationalStore(f"sqlite:///{tmp_path / 'ops.sqlite'}") as store:
        store.migrate()
        store.save_result(result, path=str(tmp_path / "gov2099.html"))
        loaded = store.load_result(result.source.sha256)
    stored = next(r for r in loaded.reports if r.kind == "tabular")
    assert {f.id: f.value for f in stored.fields} == values
    assert type(stored.field("open_data.total.added").value) is int
    assert type(stored.field("open_data.total.downloads_change").value) is int
    assert type(stored.field("open_data.total.funding_wan").value) is float
    assert type(stored.field("open_data.datasets.funding_wan").value) is float


def test_no_template_id_in_the_package_python() -> None:
    """Template ids are data: config/templates/ names them, no .py file of the package does."""
    ids = [t.id for t in load_templates(CONFIG_DIR / "templates")]
    pattern = re.compile("|".join(re.escape(i) for i in ids))
    package = ["gongkai", "models", "extractors", "flows", "store", "config", "review", "crawl"]
    named = [f"{path.relative_to(ROOT)}: {found.group(0)}"
             for folder in package for path in sorted((ROOT / folder).rglob("*.py"))
             for found in [pattern.search(path.read_text(encoding="utf-8"))] if found]
    assert not named, named
