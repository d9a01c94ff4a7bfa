"""What the accuracy benches share: when a read value is right, and how a field is counted.

bench_accuracy.py and bench_scans.py score the same way (as tests/test_born_digital.py
compares values), so their figures in the README can be set side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


def same_value(got: float | None, want: float | None) -> bool:
    """Both blank, or the same number (万元 amounts are decimals)."""
    if got is None or want is None:
        return got is None and want is None
    return abs(got - want) < 1e-6


class FieldTally(Protocol):
    right: int
    accepted: int
    wrong_accepted: int


@dataclass
class FieldCounts:
    """One document's compared fields."""

    right: int = 0
    accepted: int = 0
    wrong_accepted: int = 0


def count_field(tally: FieldTally, right: bool, accepted: bool) -> None:
    """One compared field: right, let through by routing, and both wrong and let through (must stay 0)."""
    tally.right += right
    tally.accepted += accepted
    tally.wrong_accepted += accepted and not right
