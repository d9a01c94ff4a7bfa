"""`gongkai extract` output names (issue 11 item 11): two inputs never write one JSON, and the
same command line always writes the same names (docs/output-contract.md)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gongkai.cli import app, output_names
from samples import seed


def extract(out: Path, *inputs: Path) -> list[str]:
    result = CliRunner().invoke(app, ["extract", *map(str, inputs), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))


def year_of(path: Path) -> int:
    return json.loads(path.read_text(encoding="utf-8"))["reports"][0]["year"]


def test_same_name_in_two_folders_writes_two_results(tmp_path: Path) -> None:
    for folder, prefix in (("a", "001"), ("b", "004")):
        (tmp_path / folder).mkdir()
        shutil.copy(seed(prefix), tmp_path / folder / "report.txt")
    out = tmp_path / "out"
    assert extract(out, tmp_path / "a" / "report.txt", tmp_path / "b" / "report.txt") == [
        "a/report.txt.json", "b/report.txt.json"]
    assert (year_of(out / "a" / "report.txt.json"), year_of(out / "b" / "report.txt.json")) == (2023, 2017)
    again = tmp_path / "again"
    assert extract(again, tmp_path / "a" / "report.txt", tmp_path / "b" / "report.txt") == [
        "a/report.txt.json", "b/report.txt.json"]  # deterministic


def test_a_folder_keeps_its_subfolders_and_flat_inputs_keep_their_names(tmp_path: Path) -> None:
    tree = tmp_path / "in"
    (tree / "2023").mkdir(parents=True)
    (tree / "2017").mkdir()
    shutil.copy(seed("001"), tree / "2023" / "r.txt")
    shutil.copy(seed("004"), tree / "2017" / "r.txt")
    shutil.copy(seed("002"), tree / "top.txt")
    assert extract(tmp_path / "o1", tree) == ["2017/r.txt.json", "2023/r.txt.json", "top.txt.json"]
    one = extract(tmp_path / "o2", tree / "top.txt")
    assert one == ["top.txt.json"]


def test_a_file_given_twice_is_read_once(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    shutil.copy(seed("001"), path)
    result = CliRunner().invoke(app, ["extract", str(path), str(path), str(tmp_path), "--out",
                                      str(tmp_path / "out"), "--no-progress"])
    assert result.exit_code == 0 and result.output.startswith("1 documents"), result.output


def test_output_names_are_unique_for_distinct_files_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    files = [Path("x.pdf"), Path("a/x.pdf"), Path("a/b/x.pdf"), tmp_path / "c" / "x.pdf"]
    names = output_names(files, files)
    assert len(set(names.values())) == len(files)
    assert names[Path("a/b/x.pdf")] == Path("a/b/x.pdf") and names[Path("x.pdf")] == Path("x.pdf")
    assert all(not n.is_absolute() and ".." not in n.parts for n in names.values())
    assert output_names([Path(os.sep)], [Path(os.sep) / "x.pdf"]) == {Path(os.sep) / "x.pdf": Path("x.pdf")}


@pytest.mark.slow
def test_review_crops_of_two_same_named_scans_go_to_two_folders(tmp_path: Path) -> None:
    from samples import ROOT

    scan = ROOT / "samples" / "scans" / "003_changle_wjj_2021_screenshot.png"
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(scan, tmp_path / folder / "shot.png")
    out = tmp_path / "out"
    extract(out, tmp_path / "a" / "shot.png", tmp_path / "b" / "shot.png")
    crops = sorted(p.relative_to(out).parts[:2] for p in out.rglob("*.png"))
    assert {c[0] for c in crops} == {"a", "b"} and {c[1] for c in crops} == {"shot.png.crops"}
