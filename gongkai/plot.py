"""An agency's main series over the years, drawn with matplotlib: PNGs and a small HTML page.

The charts are data (config/plots.yaml). Every point says how far it can be trusted: a value a
person corrected is drawn as a square, one still in review as a hollow red diamond, an
accepted one as a dot. Text inside the PNGs is English and field ids, in the DejaVu Sans font
matplotlib's wheel ships, with no metadata that varies: the same bytes on every machine. The
agency's own (CJK) name is on the HTML page, escaped, where the browser draws it.
"""
from __future__ import annotations

import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display, no GUI toolkit: chosen before pyplot is imported
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from gongkai.config import load_plot_charts  # noqa: E402
from gongkai.store.analytics_views import PanelPoint  # noqa: E402

STYLE = {
    "font.family": "DejaVu Sans",
    "svg.hashsalt": "gongkai",
    "path.simplify": False,
}  # ties: the bundled file comes first
# The font file inside matplotlib's wheel, by path: a "DejaVu Sans" the machine has installed
# (another version) is never picked instead.
FONT_FILE = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
MARKERS = {"accepted": "o", "corrected": "s", "needs_review": "D"}
# the worse of two statuses speaks for a summed point
RANK = {"accepted": 0, "corrected": 1, "needs_review": 2}


@dataclass(frozen=True)
class SeriesValue:
    year: int
    value: float
    status: str  # accepted | corrected | needs_review
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Series:
    label: str
    values: list[SeriesValue]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    series: list[Series]


def charts_for(points: Sequence[PanelPoint], field_ids: Sequence[str] = ()) -> list[Chart]:
    """The configured charts, or one chart of the given field ids, over an agency's points."""
    by_year: dict[int, dict[str, PanelPoint]] = {}
    for p in points:
        by_year.setdefault(p.year, {})[p.field_id] = p
    specs: list[dict[str, Any]]
    if field_ids:
        specs = [{"id": "fields", "title": "Selected fields",
                  "series": [{"label": f, "fields": [[f]]} for f in field_ids]}]
    else:
        specs = load_plot_charts()
    charts = []
    for spec in specs:
        series = [Series(s["label"], _values(by_year, s["fields"])) for s in spec["series"]]
        charts.append(Chart(spec["id"], spec["title"], [s for s in series if s.values]))
    return [c for c in charts if c.series]


def _values(by_year: dict[int, dict[str, PanelPoint]], alternatives: list[list[str]]) -> list[SeriesValue]:
    out = []
    for year in sorted(by_year):
        stored = by_year[year]
        for terms in alternatives:
            points = [p for t in terms if (p := stored.get(t)) is not None]
            values = [p.value for p in points if p.value is not None]
            if len(values) == len(terms):  # every term stored, with a value
                status = max((p.status for p in points), key=lambda s: RANK.get(s, 2))
                out.append(SeriesValue(year, sum(values), status, tuple(terms)))
                break
    return out


def chart_png(chart: Chart) -> bytes:
    """One chart as PNG bytes."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8.0, 3.6), dpi=100)
        try:
            for series in chart.series:
                _draw(ax, series)
            years = sorted({v.year for s in chart.series for v in s.values})
            ax.set_xticks(years, [str(y) for y in years])
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of requests, not fractions
            ax.grid(True, alpha=0.3)
            _label(fig, ax, chart.title)
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", metadata={"Software": None})
        finally:
            plt.close(fig)
    return buffer.getvalue()


def _label(fig, ax, title: str) -> None:  # noqa: ANN001 (a matplotlib Figure and Axes)
    """Every text of the chart in the bundled font."""
    font = FontProperties(fname=FONT_FILE)
    ax.set_title(title, fontproperties=font, fontsize=11)
    ax.set_ylabel("count", fontproperties=font)
    ax.legend(prop=FontProperties(fname=FONT_FILE, size=7), loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.text(0.0, -0.2, "dot: accepted   square: corrected by a person   red diamond: in review",
            transform=ax.transAxes, fontproperties=font, fontsize=7, color="#555555")
    fig.tight_layout()
    for tick in ax.get_xticklabels() + ax.get_yticklabels():
        tick.set_fontproperties(font)


def _draw(ax, series: Series) -> None:  # noqa: ANN001 (a matplotlib Axes)
    xs = [v.year for v in series.values]
    ys = [v.value for v in series.values]
    (line,) = ax.plot(xs, ys, "-", label=series.label, linewidth=1.5)
    for v in series.values:
        flagged = v.status == "needs_review"
        ax.plot([v.year], [v.value], MARKERS.get(v.status, "D"), markersize=7,
                color="#d62728" if flagged else line.get_color(),
                markerfacecolor="none" if flagged else line.get_color())


def write_plots(
    agency: str, points: Sequence[PanelPoint], out_dir: Path, field_ids: Sequence[str] = (),
    anomalies: Sequence[tuple[int, str, str, str]] = (),
) -> list[Path]:
    """<out>/<chart>.png for each chart with data, and <out>/index.html showing them with a table
    of every value drawn and the agency's anomalies (year, field, kind, detail); returns the
    paths written (the HTML last)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = charts_for(points, field_ids)
    written = []
    for chart in charts:
        path = out_dir / f"{chart.id}.png"
        path.write_bytes(chart_png(chart))
        written.append(path)
    page = out_dir / "index.html"
    page.write_text(_page(agency, points, charts, anomalies), encoding="utf-8")
    return written + [page]


def _page(
    agency: str, points: Sequence[PanelPoint], charts: list[Chart], anomalies: Sequence[tuple[int, str, str, str]]
) -> str:
    names = sorted({p.agency for p in points if p.agency}) or [agency]
    years = sorted({p.year for p in points})
    rows = "".join(
        f"<tr><td>{html.escape(c.id)}</td><td>{html.escape(s.label)}</td><td>{v.year}</td>"
        f"<td>{_number(v.value)}</td><td>{html.escape(v.status)}</td><td>{html.escape(' + '.join(v.fields))}</td></tr>"
        for c in charts for s in c.series for v in s.values
    )
    images = "".join(
        f'<figure><img src="{html.escape(c.id)}.png" alt="{html.escape(c.title)}"><figcaption>'
        f"{html.escape(c.title)}</figcaption></figure>"
        for c in charts
    )
    odd = "".join(
        f"<tr><td>{year}</td><td>{html.escape(field)}</td><td>{html.escape(kind)}</td><td>{html.escape(detail)}</td></tr>"
        for year, field, kind, detail in anomalies
    )
    span = f"{years[0]}–{years[-1]}" if years else "no stored years"
    return f"""<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>{html.escape(names[0])} {span}</title>
<style>body{{font-family:sans-serif;margin:2em}} img{{max-width:100%}} td,th{{padding:2px 8px;border-bottom:1px solid #ddd}}</style>
</head><body>
<h1>{html.escape(" / ".join(names))}</h1>
<p>agency key {html.escape(agency)} · {span} · dot: accepted, square: corrected by a person, red diamond: still in review</p>
{images or "<p>No stored values to draw.</p>"}
<table id="values"><tr><th>chart</th><th>series</th><th>year</th><th>value</th><th>status</th><th>fields</th></tr>{rows}</table>
<h2>Year-over-year anomalies</h2>
{f'<table id="anomalies"><tr><th>year</th><th>field</th><th>kind</th><th>detail</th></tr>{odd}</table>' if odd else "<p>None.</p>"}
</body></html>
"""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
