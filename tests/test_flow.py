"""One real run of the Prefect flow (no server) into real SQLite and DuckDB files."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from samples import seed

pytestmark = pytest.mark.flow


@pytest.fixture(scope="module")
def flow_env(tmp_path_factory: pytest.TempPathFactory, prefect_home: Path) -> Path:
    return tmp_path_factory.mktemp("flow")


def test_flow_stores_documents_once_and_loads_analytics(flow_env: Path) -> None:
    from gongkai.flows.process_documents import run_flow

    inputs = flow_env / "in"
    inputs.mkdir()
    for prefix in ("001", "004"):
        shutil.copy(seed(prefix), inputs)
    (inputs / "junk.pdf").write_bytes(b"not a pdf at all" * 50)
    files = sorted(inputs.iterdir())
    store_url = f"sqlite:///{flow_env / 'ops.sqlite'}"
    analytics = flow_env / "analytics.duckdb"

    first = run_flow(files, store_url, analytics, progress=False)
    assert first["inserted"] == 3 and first["errors"] == 1 and first["partial"] == 0
    assert first["accepted"] == 200 + 58

    second = run_flow(files, store_url, analytics, progress=False)
    assert second["unchanged"] == 3 and "inserted" not in second

    with duckdb.connect(str(analytics), read_only=True) as con:
        reports = con.execute("select year, template from reports order by year").fetchall()
        assert reports == [(2017, "legacy-stat"), (2023, "gov-2021")]
        (count,) = con.execute("select count(*) from field_values").fetchone()
        assert count == 258
        (penalties,) = con.execute("select active__penalty__decisions from wide_active").fetchone()
        assert penalties == 150


def test_flow_on_a_dask_local_cluster(flow_env: Path) -> None:
    from gongkai.flows.process_documents import run_flow

    store_url = f"sqlite:///{flow_env / 'dask.sqlite'}"
    environ = dict(os.environ)
    try:
        summary = run_flow([seed("001"), seed("002")], store_url, flow_env / "dask.duckdb", runner="dask",
                           progress=False)
    finally:
        # distributed's LocalCluster writes its workers' settings (OMP_NUM_THREADS=1,
        # MALLOC_TRIM_THRESHOLD_, PYTHONHASHSEED, ...) into this process's os.environ
        os.environ.clear()
        os.environ.update(environ)
    assert summary["inserted"] == 2 and summary["accepted"] == 200 + 198


def test_cached_extractions_are_keyed_by_the_code_that_made_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result cached by older code is not reused: the cache key hashes the extraction code."""
    import sys

    from flows import process_documents as pd

    package = tmp_path / "fp_probe"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "stage.py").write_text("THRESHOLD = 0.5\n", encoding="utf-8")
    (package / "rules.yaml").write_text("a: 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(pd, "CODE_PACKAGES", ("fp_probe",))
    fingerprint = pd.code_fingerprint.__wrapped__
    first = fingerprint()
    assert fingerprint() == first
    (package / "stage.py").write_text("THRESHOLD = 0.6\n", encoding="utf-8")
    second = fingerprint()
    (package / "rules.yaml").write_text("a: 2\n", encoding="utf-8")
    assert len({first, second, fingerprint()}) == 3
    pd.code_fingerprint.cache_clear()
    try:
        assert fingerprint() in pd.file_cache_key(None, {"path": str(package / "rules.yaml")})
    finally:
        pd.code_fingerprint.cache_clear()
        sys.modules.pop("fp_probe", None)


def test_a_document_the_store_refuses_does_not_stop_the_others(flow_env: Path) -> None:
    """A real SQLite trigger refuses one document's insert: it is reported not stored, the
    other documents are stored and loaded into analytics."""
    import sqlite3

    from gongkai.flows.process_documents import run_flow
    from gongkai.store.operational import OperationalStore

    inputs = flow_env / "refused-in"
    inputs.mkdir()
    for prefix in ("001", "004"):
        shutil.copy(seed(prefix), inputs)
    refused = sorted(inputs.iterdir())[0].name
    store_path = flow_env / "refused-ops.sqlite"
    store_url = f"sqlite:///{store_path}"
    with OperationalStore(store_url) as store:
        store.migrate()
    with sqlite3.connect(store_path) as con:
        con.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON documents WHEN NEW.name = '{refused}' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END")
    summary = run_flow(sorted(inputs.iterdir()), store_url, flow_env / "refused-analytics.duckdb", progress=False)
    assert summary["store_failed"] == 1 and summary["inserted"] == 1
    with sqlite3.connect(store_path) as con:
        assert [n for (n,) in con.execute("select name from documents")] == [sorted(inputs.iterdir())[1].name]


def test_a_result_cached_for_the_same_bytes_keeps_this_files_name(flow_env: Path) -> None:
    """The extraction cache is keyed by content: a copy under another name (a crawled
    <sha256>.txt) reuses the extraction, and is stored under its own name."""
    from gongkai.flows.process_documents import run_flow
    from gongkai.store.operational import OperationalStore

    folder = flow_env / "names"
    folder.mkdir()
    original, copy = folder / "original.txt", folder / "renamed-copy.txt"
    shutil.copy(seed("004"), original)
    shutil.copy(seed("004"), copy)
    run_flow([original], f"sqlite:///{folder / 'a.sqlite'}", folder / "a.duckdb", progress=False)
    second = f"sqlite:///{folder / 'b.sqlite'}"
    run_flow([copy], second, folder / "b.duckdb", progress=False)
    with OperationalStore(second) as store:
        assert [r.document_name for r in store.iter_reports()] == ["renamed-copy.txt"]


def test_the_summary_counts_what_the_store_added(flow_env: Path) -> None:
    """Two years of one agency: the store's cross-year checks (and any fields they send to
    review) are in the run's summary, which extraction alone never sees."""
    from gongkai.extractors.pipeline import extract_file
    from gongkai.flows.process_documents import run_flow
    from gongkai.store.operational import OperationalStore

    rendered = Path(__file__).resolve().parent.parent / "samples" / "rendered"
    files = [rendered / "000_liaocheng_wjw_2020.html", rendered / "000_liaocheng_wjw_2021.html"]
    extracted = [extract_file(f) for f in files]
    assert not [c for r in extracted for rep in r.reports for c in rep.checks if not c.ok]
    store_url = f"sqlite:///{flow_env / 'two-years.sqlite'}"

    summary = run_flow(files, store_url, flow_env / "two-years.duckdb", progress=False)

    with OperationalStore(store_url) as store:
        stored = [store.load_result(r.source.sha256) for r in extracted]
    failed = [c for r in stored for rep in r.reports for c in rep.checks if not c.ok]
    statuses = [f.status for r in stored for rep in r.reports for f in rep.fields]
    assert failed and all(c.rule.startswith("cross_year.") for c in failed)
    assert summary["failed_checks"] == len(failed)
    assert summary["accepted"] == statuses.count("accepted")
    assert summary["needs_review"] == statuses.count("needs_review")
