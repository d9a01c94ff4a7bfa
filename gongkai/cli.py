"""The `gongkai` command: thin wrappers that call the pipeline, the flow and the stores."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from tqdm import tqdm

from gongkai.models import ExtractionResult

if TYPE_CHECKING:
    from gongkai.review.service import ReviewService

app = typer.Typer(help="Government information-disclosure annual reports to canonical fields.", no_args_is_help=True)

REPO_SAMPLES = Path(__file__).resolve().parent.parent / "samples"
INPUT_SUFFIXES = {".pdf", ".html", ".htm", ".docx", ".doc", ".txt", ".png", ".jpg", ".jpeg", ".tif", ".tiff"}


def data_dir() -> Path:
    from gongkai.store.engine import data_dir as stores_data_dir  # the store owns it; imported late: heavy

    return stores_data_dir()


def default_store_url() -> str:
    from gongkai.store.engine import default_url

    return default_url()


def default_analytics() -> Path:
    return Path(os.environ.get("GONGKAI_ANALYTICS") or data_dir() / "analytics.duckdb")


def collect_inputs(paths: list[Path]) -> list[Path]:
    """Files as given, and every report-like file below a given folder, sorted; each file once."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            # not is_file(): a FIFO or device named .txt gets its own error result instead of vanishing
            found += sorted(
                p for p in path.rglob("*") if p.exists() and not p.is_dir() and p.suffix.lower() in INPUT_SUFFIXES
            )
        elif path.exists():
            found.append(path)
        else:
            raise typer.BadParameter(f"{path} does not exist")
    unique: dict[str, Path] = {}
    for path in found:
        unique.setdefault(os.path.abspath(path), path)  # a file named twice is read once
    return list(unique.values())


def output_names(inputs: list[Path], files: list[Path]) -> dict[Path, Path]:
    """Each file's output name without suffix: its path below the deepest folder that holds every
    input (a given folder, or a given file's folder). Unique for distinct files, the same for the
    same command line: `a/x.pdf b/x.pdf` -> a/x.pdf, b/x.pdf; one folder or files of one folder ->
    the file names (and subfolders) as before."""
    roots = [Path(os.path.abspath(p)) if p.is_dir() else Path(os.path.abspath(p)).parent for p in inputs]
    common = Path(os.path.commonpath(roots)) if roots else Path.cwd()
    return {f: Path(os.path.abspath(f)).relative_to(common) for f in files}


@app.command()
def extract(
    inputs: Annotated[list[Path], typer.Argument(help="files or folders")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="folder for <input path>.json (see docs/output-contract.md)")
    ],
    progress: bool = True,
) -> None:
    """Write the report-extraction/1 JSON of each input (no store, no server)."""
    from gongkai.extractors.pipeline import extract_file

    out.mkdir(parents=True, exist_ok=True)
    files = collect_inputs(inputs)
    names = output_names(inputs, files)
    failed = partial = 0
    for path in tqdm(files, unit="doc", disable=not progress, desc="extract"):
        result = extract_file(path)
        failed += result.error is not None
        partial += result.status == "partial"
        target = out / f"{names[path]}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(result.to_json(), encoding="utf-8")
        write_review_crops(result, out / f"{names[path]}.crops")
    typer.echo(f"{len(files)} documents, {failed} with errors, {partial} partial, JSON in {out}")


def write_review_crops(result: ExtractionResult, folder: Path) -> None:
    """PNGs of the scanned cells of fields sent to review: <report number>-<field id>.png."""
    for number, report in enumerate(result.reports, start=1):
        for field_id, png in report.crops.items():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{number}-{field_id}.png").write_bytes(png)


def _prefect_env(verbose: bool) -> None:
    """Before Prefect is imported: no telemetry, time for the ephemeral API on a busy box, and
    its INFO lines off the terminal (they still reach the API) unless --verbose."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")


@app.command()
def run(
    paths: Annotated[list[Path] | None, typer.Argument(help="files or folders; default: the bundled samples")] = None,
    store: Annotated[
        str | None, typer.Option(help="operational store URL (sqlite:///… or postgresql+psycopg://…)")
    ] = None,
    analytics: Annotated[Path | None, typer.Option(help="DuckDB analytics file")] = None,
    runner: Annotated[str, typer.Option(help="task runner: threads or dask")] = "threads",
    dask_address: Annotated[str | None, typer.Option(help="address of an existing Dask cluster")] = None,
    reprocess: Annotated[
        bool,
        typer.Option(
            "--reprocess",
            help="extract stored documents again with the current "
            "pipeline; people's confirmed and corrected values are kept",
        ),
    ] = False,
    progress: bool = True,
    verbose: Annotated[bool, typer.Option("--verbose", help="Prefect's INFO lines on the terminal too")] = False,
) -> None:
    """Run the process_documents flow into the operational and analytics stores."""
    _prefect_env(verbose)
    from gongkai.flows.process_documents import run_flow

    files = collect_inputs(paths or [REPO_SAMPLES])
    store_url = store or default_store_url()
    analytics_path = analytics or default_analytics()
    analytics_path.parent.mkdir(parents=True, exist_ok=True)
    summary = run_flow(files, store_url, analytics_path, runner, dask_address, progress, reprocess)
    typer.echo(f"store: {store_url}\nanalytics: {analytics_path}")
    typer.echo(", ".join(f"{k}: {v}" for k, v in summary.items()))
    if summary.get("store_failed"):
        typer.echo(f"{summary['store_failed']} document(s) could not be stored: see the run summary", err=True)
        raise typer.Exit(1)


@app.command()
def show(
    target: Annotated[str, typer.Argument(help="a file to extract, or a stored document's sha256")],
    store: Annotated[str | None, typer.Option(help="operational store URL, for a sha256")] = None,
) -> None:
    """Print each report's tables as the template lays them out (a partial document's page errors first)."""
    from gongkai.render import render_report, render_status

    if Path(target).exists():
        from gongkai.extractors.pipeline import extract_file

        result = extract_file(Path(target))
    else:
        from gongkai.store.operational import OperationalStore

        with OperationalStore(store or default_store_url()) as opened:
            result = opened.load_result(target)
    if result.error:
        typer.echo(f"{result.source.name}: {result.error.stage} failed ({result.error.kind}): {result.error.message}")
        raise typer.Exit(1)
    status = render_status(result)
    if status:
        typer.echo(status + "\n")
    for report in result.reports:
        typer.echo(render_report(report) + "\n")


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="folder for the exported tables")],
    format: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
    analytics: Annotated[Path | None, typer.Option(help="DuckDB analytics file")] = None,
    complete_only: Annotated[
        bool, typer.Option("--complete-only", help="leave out reports with open review items")
    ] = False,
) -> None:
    """Export the analytics tables as Parquet or CSV files."""
    from gongkai.store.analytics import export_analytics

    if format not in ("parquet", "csv"):
        raise typer.BadParameter("--format must be parquet or csv")
    written = export_analytics(analytics or default_analytics(), out, format, complete_only=complete_only)  # type: ignore[arg-type]
    typer.echo("\n".join(str(p) for p in written))


# -- plot: an agency's series for analysts ---------------------------------------------------
@app.command()
def plot(
    agency: Annotated[str, typer.Argument(help="agency_key, or a name the agency's reports print")],
    out: Annotated[Path, typer.Option("--out", "-o", help="folder for the PNGs and index.html")],
    fields: Annotated[str | None, typer.Option(help="comma-separated field ids: one chart of them")] = None,
    analytics: Annotated[Path | None, typer.Option(help="DuckDB analytics file")] = None,
) -> None:
    """Draw an agency's main series over the years (requests, outcomes, appeals, 主动公开)."""
    from gongkai.plot import write_plots
    from gongkai.store.analytics_views import agency_anomalies, agency_panel

    path = analytics or default_analytics()
    points = agency_panel(path, agency)
    if not points:
        typer.echo(f"no stored reports of agency {agency!r} in the analytics store", err=True)
        raise typer.Exit(1)
    chosen = [f.strip() for f in fields.split(",") if f.strip()] if fields else []
    key = points[0].agency_key
    written = write_plots(key, points, out, chosen, agency_anomalies(path, key))
    typer.echo("\n".join(str(p) for p in written))


# -- review: the reviewers' web app and its queue --------------------------------------------
review_app = typer.Typer(help="The reviewers' web app and its queue.", no_args_is_help=True)
users_app = typer.Typer(help="Reviewer and admin accounts.", no_args_is_help=True)
app.add_typer(review_app, name="review")
app.add_typer(users_app, name="users")
agencies_app = typer.Typer(
    help="Agencies: one key per agency, every spelling seen; join two keys.", no_args_is_help=True
)
app.add_typer(agencies_app, name="agencies")


@contextmanager
def review_service(store: str | None, analytics: Path | None = None) -> Iterator[ReviewService]:
    """The review service over the store (and the analytics file, kept in step with saves);
    a refused action prints its message and exits 1."""
    from gongkai.review.errors import ReviewError
    from gongkai.review.service import ReviewService

    if analytics is not None:
        analytics.parent.mkdir(parents=True, exist_ok=True)
    service = ReviewService(store or default_store_url(), analytics)
    try:
        yield service
    except ReviewError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        service.close()


@review_app.command("serve")
def review_serve(
    store: Annotated[str | None, typer.Option(help="operational store URL")] = None,
    analytics: Annotated[Path | None, typer.Option(help="DuckDB analytics file, kept in step with saves")] = None,
    host: Annotated[str, typer.Option(help="address to bind; 127.0.0.1 keeps the app on this machine")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8080,
    secure_cookies: Annotated[bool, typer.Option(help="mark the session cookie Secure (behind HTTPS)")] = False,
) -> None:
    """Serve the review app (sessions survive restarts when GONGKAI_SECRET_KEY is set)."""
    import uvicorn

    from gongkai.review.web.app import create_app

    with review_service(store, analytics or default_analytics()) as service:
        web = create_app(service, secret_key=os.environ.get("GONGKAI_SECRET_KEY"), secure_cookies=secure_cookies)
        typer.echo(f"review app on http://{host}:{port}/ (store: {store or default_store_url()})")
        uvicorn.run(web, host=host, port=port, log_level="info")


@review_app.command("list")
def review_list(
    store: Annotated[str | None, typer.Option(help="operational store URL")] = None,
    limit: Annotated[int, typer.Option(help="at most this many items")] = 100,
) -> None:
    """Open review items, one a line: id, state, report, field, value, raw, reasons."""
    from gongkai.models.review import QueueFilter, User

    operator = User(id=0, name="operator", role="admin")  # at the server; reading the queue only
    with review_service(store) as service:
        items = service.queue(operator, QueueFilter(), limit=limit)
    for it in items:
        value = "" if it.value is None else f"{it.value:g}" if isinstance(it.value, float) else str(it.value)
        where = f"{it.agency or '?'} {it.year or '?'}"
        field = it.field_id or "(unmapped row)"
        typer.echo(f"{it.id}\t{it.state}\t{where}\t{field}\t{value}\t{it.raw!r}\t{'; '.join(it.reasons)}")
    typer.echo(f"{len(items)} item(s)", err=True)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="reviewer or admin")] = "reviewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin (scripts)")
    ] = False,
    store: Annotated[str | None, typer.Option(help="operational store URL")] = None,
) -> None:
    """Add a user; the password is prompted twice (or read from stdin)."""
    import sys

    if role not in ("reviewer", "admin"):
        raise typer.BadParameter("--role must be reviewer or admin")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise typer.BadParameter("the password is empty")
    with review_service(store) as service:
        user = service.add_user(None, name, role, password)  # type: ignore[arg-type]
    typer.echo(f"added {user.name} ({user.role})")


@users_app.command("token")
def users_token(
    name: Annotated[str, typer.Argument(help="login name")],
    store: Annotated[str | None, typer.Option(help="operational store URL")] = None,
) -> None:
    """Print a new API token for NAME (shown once; use it as `Authorization: Bearer <token>`)."""
    with review_service(store) as service:
        typer.echo(service.issue_token(None, name))


@agencies_app.command("list")
def agencies_list(
    store: Annotated[str | None, typer.Option(help="operational store URL")] = None,
) -> None:
    """Stored agencies, one a line: key, name, region, reports, years, spellings (merged: -> key)."""
    with review_service(store) as service:
        found = service.agencies(None)
    for ag in found:
        merged = f"\t-> {ag.merged_into}" if ag.merged_into else ""
        years = ",".join(map(str, ag.years))
        typer.echo(
            f"{ag.key}\t{ag.name}\t{ag.region or '-'}\t{ag.reports}\t{years or '-'}\t{'; '.join(ag.spellings)}{merged}"
        )
    typer.echo(f"{len(found)} agenc{'y' if len(found) == 1 else 'ies'}", err=True)


@agencies_app.command("merge")
def agencies_merge(
    key: Annotated[str, typer.Argument(help="the key to keep")],
    other: Annotated[str, typer.Argument(help="the key whose reports take KEY")],
    store: Annotated[str | None, typer.Option(help="operational store URL")] = None,
    analytics: Annotated[Path | None, typer.Option(help="DuckDB analytics file, rebuilt after the merge")] = None,
) -> None:
    """Join OTHER into KEY (audited; later reports spelled like OTHER get KEY; the cross-year
    rules of the joined years run)."""
    with review_service(store, analytics or default_analytics()) as service:
        moved = service.merge_agencies(None, key, other)
    typer.echo(f"merged {other} into {key}: {moved} report(s) moved")


def _crawl_config(config: Path | None) -> Path | None:
    from gongkai.crawl.config import ConfigError, load_config

    try:
        load_config(config)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    return config


@app.command()
def crawl(
    once: Annotated[
        bool, typer.Option("--once", help="one crawl now (no server needed); see `serve` for the schedule")
    ] = False,
    config: Annotated[Path | None, typer.Option(help="sites file; default: the bundled config/sites.yaml")] = None,
    site: Annotated[str | None, typer.Option(help="crawl only the site of this name")] = None,
    store: Annotated[str | None, typer.Option(help="operational store URL")] = None,
    analytics: Annotated[Path | None, typer.Option(help="DuckDB analytics file")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="show Prefect's INFO log lines")] = False,
    progress: bool = True,
) -> None:
    """Crawl the agency sites once; only new or changed documents go through the pipeline."""
    if not once:
        raise typer.BadParameter("say --once for one crawl now, or use `gongkai serve` for the schedule")
    _prefect_env(verbose)
    config = _crawl_config(config)
    if site:
        from gongkai.crawl.config import ConfigError, load_config

        try:
            load_config(config).site(site)
        except ConfigError as exc:
            raise typer.BadParameter(str(exc)) from None
    from gongkai.flows.crawl_sites import crawl_once

    analytics_path = analytics or default_analytics()
    analytics_path.parent.mkdir(parents=True, exist_ok=True)
    result = crawl_once(store or default_store_url(), str(analytics_path), str(data_dir()),
                         str(config) if config else None, site, progress)
    typer.echo(result["summary"])
    if result["processed"].get("store_failed"):
        raise typer.Exit(1)


@app.command()
def serve(
    config: Annotated[Path | None, typer.Option(help="sites file; default: the bundled config/sites.yaml")] = None,
    store: Annotated[str | None, typer.Option(help="operational store URL")] = None,
    analytics: Annotated[Path | None, typer.Option(help="DuckDB analytics file")] = None,
    interval: Annotated[int | None, typer.Option(help="seconds between runs instead of the config's cron")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="show Prefect's INFO log lines")] = False,
) -> None:
    """Serve the crawl as a Prefect deployment on the config's cron until interrupted.

    Uses PREFECT_API_URL when set; otherwise starts `prefect server` on 127.0.0.1 (state under
    the data directory) and stops it on exit."""
    _prefect_env(verbose)
    config = _crawl_config(config)
    from gongkai.flows.crawl_sites import serve_crawl

    analytics_path = analytics or default_analytics()
    analytics_path.parent.mkdir(parents=True, exist_ok=True)
    serve_crawl(store or default_store_url(), str(analytics_path), data_dir(),
                str(config.resolve()) if config else None, interval_seconds=interval)


if __name__ == "__main__":
    app()
