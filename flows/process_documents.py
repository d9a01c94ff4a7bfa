"""The `process_documents` Prefect flow: extract each file, store it, load analytics.

Thin by design: each task calls one function from extractors/ or store/. Retries,
caching, the run summary artifact and the task runner live here and nowhere else.
Runs with no Prefect server (an ephemeral local API is started in-process).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import importlib
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

from prefect import flow, task, unmapped
from prefect.artifacts import create_markdown_artifact
from prefect.context import TaskRunContext
from prefect.futures import as_completed
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from tqdm import tqdm

from gongkai.config import load_templates
from gongkai.extractors.anomalies import find_anomalies
from gongkai.extractors.detect import sha256_of
from gongkai.extractors.pipeline import PIPELINE_VERSION, extract_file
from gongkai.flows.prefect_api import owned_ephemeral_api
from gongkai.models import ExtractionResult, LearnedLabel
from gongkai.review.rules import recheck_document
from gongkai.store.analytics import load_analytics
from gongkai.store.errors import StoreBusy
from gongkai.store.operational import OperationalStore
from gongkai.store.review import ReviewReader
from gongkai.store.versions import carry_reviews

CACHE_EXPIRATION = dt.timedelta(days=30)


CODE_PACKAGES = ("gongkai.extractors", "gongkai.models", "gongkai.config")  # what makes an extraction
NOT_EXTRACTION_CONFIG = {
    "sites.yaml",
    "plots.yaml",
    "anomalies.yaml",
}  # the crawl's sites, the charts, the anomaly thresholds: no extraction changes


def file_cache_key(_context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Same bytes through the same code and the same learned labels: the cached extraction is still right."""
    learned = learned_fingerprint(parameters.get("learned") or [])
    return f"extract-{sha256_of(Path(parameters['path']))}-{PIPELINE_VERSION}-{code_fingerprint()}-{learned}"


def learned_fingerprint(learned: list[LearnedLabel]) -> str:
    """A hash of the reviewers' label variants: a new or revoked one changes what mapping finds."""
    rows = sorted((x.template, x.table, x.row_id, x.label) for x in learned)
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the extraction code and its config files. The version number is not bumped on
    every change, and a result cached by older code (on disk for 30 days) must not be reused."""
    digest = hashlib.sha256()
    for package in CODE_PACKAGES:
        source = importlib.import_module(package).__file__
        assert source is not None, f"{package}: a package with an __init__.py has a __file__"
        folder = Path(source).parent
        for path in sorted(p for p in folder.rglob("*") if p.suffix in (".py", ".yaml") and p.is_file()
                           and p.name not in NOT_EXTRACTION_CONFIG):
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _transient_store_error(_task: Any, _run: Any, state: Any) -> bool:
    """Retry only what a retry can fix: a locked SQLite file or a dropped connection."""
    try:
        state.result()
    except StoreBusy:
        return True
    except Exception:
        return False
    return False


@task(
    name="extract",
    cache_key_fn=file_cache_key,
    cache_expiration=CACHE_EXPIRATION,
    persist_result=True,
    retries=1,
    retry_delay_seconds=1,
)
def extract_task(path: str, learned: list[LearnedLabel] | None = None) -> ExtractionResult:
    return extract_file(Path(path), learned or ())


@task(name="store", retries=4, retry_delay_seconds=[0.5, 1, 2, 4], retry_condition_fn=_transient_store_error)
def store_task(result: ExtractionResult, path: str, store_url: str, reprocess: bool = False,
               source_url: str | None = None, previous_sha256: str | None = None) -> dict[str, Any]:
    """previous_sha256: the stored document this one is a new version of (a changed crawled page)."""
    carried = 0
    with OperationalStore(store_url) as store:
        outcome = store.save_result(result, path=path, source_url=source_url, reprocess=reprocess)
        if outcome.outcome == "inserted" and previous_sha256 and result.error is None:
            carried = carry_reviews(store, previous_sha256, outcome.sha256).carried
        if outcome.outcome == "reprocessed" or carried:
            # the new machine values beside people's: the form's rules decide again
            recheck_document(store, outcome.document_id)
    return {"name": result.source.name, "outcome": outcome.outcome, "review_items": outcome.review_items,
            "conflicts": outcome.conflicts, "carried": carried}


@task(name="load-analytics", retries=2, retry_delay_seconds=2)
def load_analytics_task(store_url: str, analytics_path: str) -> dict[str, int]:
    field_ids = [i for t in load_templates() for i in t.field_ids()]
    with OperationalStore(store_url) as store:
        return load_analytics(store, Path(analytics_path), find_anomalies=find_anomalies, field_ids=field_ids)


@flow(name="process_documents", log_prints=True)
def process_documents(
    paths: list[str], store_url: str, analytics_path: str, progress: bool = True, reprocess: bool = False,
    source_urls: dict[str, str] | None = None, previous_versions: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Every file through extraction into the operational store, then into analytics.

    reprocess: extract again even what the cache or the store knows (the current pipeline),
    replacing machine values and keeping people's work. source_urls: path -> where it was
    fetched; previous_versions: path -> sha256 of the stored document it is a new version of
    (people's values carry over where the print agrees, store/versions.py)."""
    with OperationalStore(store_url) as store:
        store.migrate()
        learned = store.learned_labels()
    extract = extract_task.with_options(refresh_cache=True) if reprocess else extract_task
    futures = extract.map(paths, learned=unmapped(learned))
    path_of = {f.task_run_id: p for f, p in zip(futures, paths)}
    summary: Counter[str] = Counter()
    rows = []
    stored_sha256s: list[str] = []  # not the results: their crops and page images would pile up
    bar = tqdm(total=len(paths), unit="doc", disable=not progress, desc="process_documents")
    for future in as_completed(futures):
        path = path_of[future.task_run_id]
        # The cache is keyed by content: a result cached for the same bytes under another name
        # (a crawled <sha256>.pdf, a copy) is this file's extraction, but the name is this file's.
        result = future.result().model_copy(deep=True)
        result.source.name = Path(path).name
        saved = _stored(result, path, store_url, reprocess, (source_urls or {}).get(path),
                        (previous_versions or {}).get(path))
        rows.append(_summary_row(result, saved))
        stored_sha256s.append(result.source.sha256)
        summary.update(_counts(result, saved))
        bar.update(1)
    bar.close()
    counts = load_analytics_task(store_url, analytics_path)
    with OperationalStore(store_url) as store:
        # the store may have sent more fields to review (cross-year rules): its counts, not extraction's
        summary.update(store.outcome_counts(stored_sha256s))
        store.optimize()  # the review app reads a queue that may just have grown a lot
        queue = ReviewReader(store).size_by_reason()
    _publish_summary(rows, summary, counts, queue)
    return {"documents": len(paths), "partial": summary["partial"], **summary, "analytics": counts,
            "open_review_items": sum(queue.values())}


def _stored(result: ExtractionResult, path: str, store_url: str, reprocess: bool, source_url: str | None = None,
            previous_sha256: str | None = None) -> dict[str, Any]:
    """The store task's outcome; one document the store refuses after its retries is reported
    as not stored, and the others are still stored."""
    try:
        return store_task(result, path, store_url, reprocess, source_url, previous_sha256)
    except Exception as exc:  # noqa: BLE001 - any failure of one document's insert
        return {"name": result.source.name, "outcome": "store_failed", "review_items": 0,
                "error": f"{type(exc).__name__}: {exc}"}


def _counts(result: ExtractionResult, saved: dict[str, Any]) -> Counter[str]:
    counts: Counter[str] = Counter({saved["outcome"]: 1})
    if saved.get("conflicts"):
        counts["conflicts"] += saved["conflicts"]
    if saved.get("carried"):
        counts["carried_reviews"] += saved["carried"]
    if result.error:
        counts["errors"] += 1
    if result.status == "partial":  # stored with what was read; page_errors say what was not
        counts["partial"] += 1
        counts["page_errors"] += len(result.page_errors)
    counts["reports"] += len(result.reports)
    return counts


def _summary_row(result: ExtractionResult, saved: dict[str, Any]) -> dict[str, Any]:
    fields = [f for r in result.reports for f in r.fields]
    return {
        "document": result.source.name,
        "stored": saved["outcome"],
        "status": result.status + (f" ({len(result.page_errors)} page errors)" if result.page_errors else ""),
        "error": "; ".join(e for e in (f"{result.error.kind}: {result.error.message}" if result.error else "",
                                       saved.get("error", "")) if e),
        "reports": ", ".join(f"{r.year or '?'} {r.kind} {r.template or ''}".strip() for r in result.reports),
        "fields": len(fields),
        "accepted": sum(f.status == "accepted" for f in fields),
        "needs_review": sum(f.status == "needs_review" for f in fields),
    }


def _publish_summary(
    rows: list[dict[str, Any]], summary: Counter[str], counts: dict[str, int], queue: dict[str, int]
) -> None:
    header = ("| document | stored | status | reports | fields | accepted | needs review | error |\n"
              "|---|---|---|---|---|---|---|---|\n")
    body = "".join(
        f"| {_cell(r['document'])} | {r['stored']} | {r['status']} | {r['reports']} | {r['fields']} | {r['accepted']} "
        f"| {r['needs_review']} | {r['error']} |\n"
        for r in rows
    )
    totals = ", ".join(f"{k}: {v}" for k, v in sorted(summary.items()))
    create_markdown_artifact(
        key="process-documents-summary",
        markdown=f"# process_documents\n\n{totals}\n\nanalytics rows: {counts}\n\n{header}{body}\n"
        f"{_queue_table(queue)}",
        description="Per-run summary of gongkai's process_documents flow",
    )


def _queue_table(queue: dict[str, int]) -> str:
    """The open review queue after the run, by reason (an item with two reasons counts in both)."""
    lines = "".join(f"| {_cell(reason)} | {n} |\n" for reason, n in queue.items())
    return f"## Open review queue by reason\n\n| reason | open items |\n|---|---|\n{lines}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def task_runner(kind: str = "threads", dask_address: str | None = None, workers: int = 2) -> TaskRunner[Any]:
    """Threads by default; Dask for a LocalCluster or an existing cluster's address."""
    if kind == "threads":
        return ThreadPoolTaskRunner(max_workers=workers)
    if kind == "dask":
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True})
    raise ValueError(f"unknown task runner {kind!r}: use 'threads' or 'dask'")


def run_flow(
    paths: list[Path],
    store_url: str,
    analytics_path: Path,
    runner: str = "threads",
    dask_address: str | None = None,
    progress: bool = True,
    reprocess: bool = False,
) -> dict[str, Any]:
    """The flow on one Prefect API for it and its local workers (a local Dask cluster's worker
    processes find its URL in the environment), started now and dying with this process unless
    PREFECT_API_URL names one; a remote cluster (--dask-address) needs a PREFECT_API_URL it can reach."""
    configured = process_documents.with_options(task_runner=task_runner(runner, dask_address))
    with owned_ephemeral_api():
        return configured([str(p) for p in paths], store_url, str(analytics_path), progress, reprocess)
