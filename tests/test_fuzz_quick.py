"""The fuzz harness's quick mode (bench/fuzz.py --quick) in CI: a few hundred mutated samples
through the CLI's extract entry, with not one crash, hang, missing output or unclear error."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from samples import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from fuzz import is_unclear  # noqa: E402


def test_unclear_errors_are_the_ones_no_user_can_act_on() -> None:
    assert is_unclear("unexpected", "the reader failed")
    assert is_unclear("corrupt", "")
    assert is_unclear("corrupt", "KeyError('word/document.xml')")
    assert is_unclear("corrupt", "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff")
    assert not is_unclear("corrupt", "report.pdf is not a readable PDF (truncated or damaged): Failed to load")
    assert not is_unclear(None, None)


@pytest.mark.slow
def test_quick_fuzz_has_no_crash_hang_missing_output_or_unclear_error(tmp_path: Path) -> None:
    report = tmp_path / "fuzz.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "fuzz.py"), "--quick", "--json", str(report)],
                          capture_output=True, text=True, timeout=1800, check=False)
    assert report.exists(), done.stderr[-2000:]
    totals = json.loads(report.read_text(encoding="utf-8"))["rows"]["all"]
    assert totals["inputs"] >= 200
    bad = {k: totals[k] for k in ("crashes", "hangs", "missing", "unclear")}
    assert bad == {"crashes": 0, "hangs": 0, "missing": 0, "unclear": 0}, done.stdout[-3000:]
    assert done.returncode == 0
