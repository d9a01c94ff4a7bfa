"""Paths of the bundled samples, for tests."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "samples" / "seeds"
REAL = ROOT / "samples" / "real"
SPECS = ROOT / "samples" / "specs"


def seed(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))
