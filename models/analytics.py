"""What the analysts' anomaly step reads and finds: plain records shared by extractors/anomalies.py
(which finds them) and store/analytics_views.py (which reads the series and stores the findings)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

Number = int | float
AnomalyKind = Literal["jump", "fall_to_zero", "total_vs_parts"]


@dataclass(frozen=True)
class SeriesPoint:
    """One analytic value: the field of one agency's report of one year."""

    agency_key: str
    year: int
    field_id: str
    value: Number
    template: str | None
    report_key: str


@dataclass(frozen=True)
class Anomaly:
    agency_key: str
    year: int
    field_id: str
    kind: AnomalyKind
    value: Number
    previous: Number | None
    detail: str
    report_key: str


# What the analytics store is given to find anomalies with (extractors/anomalies.find_anomalies).
AnomalyFinder = Callable[[Iterable[SeriesPoint]], Iterable[Anomaly]]
