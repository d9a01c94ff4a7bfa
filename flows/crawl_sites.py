"""The `crawl_sites` Prefect flow: crawl the configured agency sites, then hand only the new
and changed documents to process_documents (same store, same analytics file).

`gongkai crawl --once` runs it against an ephemeral API; `gongkai serve` serves it as a
deployment on the config's cron (see serve_crawl: a schedule fires only against a real
Prefect server, so one is started on 127.0.0.1 when no PREFECT_API_URL is set).
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from tqdm import tqdm

from gongkai.crawl.config import load_config
from gongkai.crawl.crawler import SiteSummary
from gongkai.crawl.run import chosen_sites, crawl
from gongkai.flows.prefect_api import owned_ephemeral_api, prefect_server
from gongkai.flows.process_documents import process_documents

SUMMARY_COLUMNS = ("pages_fetched", "new", "changed", "not_modified", "duplicates", "refused", "errors")


@task(name="crawl")
def crawl_task(config_path: str | None, site: str | None, store_url: str, data_dir: str,
               progress: bool) -> tuple[str, list[SiteSummary]]:
    sites = chosen_sites(load_config(Path(config_path) if config_path else None), site)
    with tqdm(unit="fetch", disable=not progress, desc="crawl") as bar:
        return crawl(sites, store_url, Path(data_dir), on_fetch=lambda: bar.update(1))


@flow(name="crawl_sites", log_prints=True)
def crawl_sites(store_url: str, analytics_path: str, data_dir: str, config_path: str | None = None,
                site: str | None = None, progress: bool = False) -> dict[str, Any]:
    """One crawl of every configured site (or one), then the pipeline on what is new or changed."""
    run_id, summaries = crawl_task(config_path, site, store_url, data_dir, progress)
    found = [d for s in summaries for d in s.documents]
    processed: dict[str, Any] = {}
    if found:
        paths = [str(d.path) for d in found]
        processed = process_documents(
            paths, store_url, analytics_path, progress=progress,
            source_urls={str(d.path): d.url for d in found},
            previous_versions={str(d.path): d.previous_sha256 for d in found if d.previous_sha256},
        )
    text = summary_text(summaries, processed)
    print(text)
    create_markdown_artifact(key="crawl-sites-summary", markdown=summary_markdown(run_id, summaries, processed),
                             description="Per-site summary of gongkai's crawl_sites flow")
    return {"run_id": run_id, "sites": [_site_dict(s) for s in summaries], "processed": processed,
            "summary": text}


def crawl_once(store_url: str, analytics_path: str, data_dir: str, config_path: str | None = None,
               site: str | None = None, progress: bool = False) -> dict[str, Any]:
    """`gongkai crawl --once`: the flow on an API whose server dies with this process."""
    with owned_ephemeral_api():
        return crawl_sites(store_url, analytics_path, data_dir, config_path, site, progress)


def _site_dict(summary: SiteSummary) -> dict[str, Any]:
    out = asdict(summary)
    out["documents"] = [{"url": d.url, "sha256": d.sha256, "outcome": d.outcome} for d in summary.documents]
    return out


def summary_text(summaries: list[SiteSummary], processed: dict[str, Any]) -> str:
    lines = []
    for s in summaries:
        counts = ", ".join(f"{c.replace('_', ' ')}: {getattr(s, c)}" for c in SUMMARY_COLUMNS)
        lines.append(f"{s.site}: {counts}")
        lines += [f"  warning: {w}" for w in s.warnings]
    if processed:
        lines.append("processed: " + ", ".join(f"{k}: {v}" for k, v in processed.items() if k != "analytics"))
    else:
        lines.append("processed: nothing new or changed")
    return "\n".join(lines)


def summary_markdown(run_id: str, summaries: list[SiteSummary], processed: dict[str, Any]) -> str:
    header = "| site | " + " | ".join(c.replace("_", " ") for c in SUMMARY_COLUMNS) + " | warnings |\n"
    header += "|---" * (len(SUMMARY_COLUMNS) + 2) + "|\n"
    body = "".join(
        f"| {_cell(s.site)} | " + " | ".join(str(getattr(s, c)) for c in SUMMARY_COLUMNS)
        + f" | {_cell('; '.join(s.warnings))} |\n" for s in summaries)
    done = ", ".join(f"{k}: {v}" for k, v in processed.items() if k != "analytics") or "nothing new or changed"
    return f"# crawl_sites\n\nrun {run_id}\n\n{header}{body}\nprocessed: {done}\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# ---------------------------------------------------------------------------------------
# Serving the flow on the config's schedule
# ---------------------------------------------------------------------------------------
def serve_crawl(store_url: str, analytics_path: str, data_dir: Path, config_path: str | None = None,
                cron: str | None = None, interval_seconds: int | None = None) -> None:
    """Serve crawl_sites as a deployment until interrupted; own a Prefect server when needed."""
    config = load_config(Path(config_path) if config_path else None)
    schedule = {"interval": interval_seconds} if interval_seconds else {"cron": cron or config.schedule}
    with prefect_server(data_dir) as api_url:
        print(f"gongkai serve: Prefect API at {api_url}; schedule {schedule}", flush=True)
        crawl_sites.serve(
            name="scheduled-crawl",
            parameters={"store_url": store_url, "analytics_path": analytics_path, "data_dir": str(data_dir),
                        "config_path": config_path},
            pause_on_shutdown=False,
            **schedule,
        )
