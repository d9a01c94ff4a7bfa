"""Fuzz the readers with mutated samples and report, per input kind, what a batch would suffer.

Usage: python bench/fuzz.py --quick            (a few hundred inputs, CI: tests/test_fuzz_quick.py)
       python bench/fuzz.py --n 10000          (the full run)
       options: --workers 2 --timeout 60 --rss-mb 2048 --seed 11 --json report.json --keep DIR

Every input goes through extractors.pipeline.extract_file, the entry the CLI's `extract` uses,
in a pool of worker processes (bench/fuzz_worker.py). A worker past the per-input timeout (4x for
OCR'd images) is a hang, one past the RSS cap or dead is a batch crash; either is killed and replaced, and the run
goes on. Columns:
  crashes  an exception escaped extract_file, the worker died, or it passed the RSS cap
  hangs    no answer within --timeout seconds
  missing  no JSON written, or a result with neither reports nor an error
  unclear  an error a user cannot act on: kind `unexpected`, an empty message, or a message that
           is a bare exception repr (`KeyError('x')`, `ValueError: …`)
  errors   clear errors (corrupt, encoding, too-large …), kept in the document's result
  read     inputs with at least one report; peak MB: the largest worker RSS of one input
"""
from __future__ import annotations

import argparse
import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_inputs import load_samples, make_input, plan  # noqa: E402

WORKER = Path(__file__).resolve().parent / "fuzz_worker.py"
QUICK_INPUTS = 200
QUICK_TIMEOUT_S = 60
SLOW_KINDS = {"bit-depth": 4}  # OCR'd images: the per-input timeout is this many times longer (model loading too)
_BARE_REPR = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Warning|Interrupt|Exit)\b\s*[(:]|^[A-Za-z_][\w.]*\(.*\)$")


def is_unclear(kind: str | None, message: str | None) -> bool:
    """An error whose message is a bare exception repr, of kind `unexpected`, or empty."""
    if kind is None:
        return False
    text = (message or "").strip()
    return kind == "unexpected" or not text or bool(_BARE_REPR.match(text))


@dataclass
class Outcome:
    kind: str
    name: str
    verdict: str  # ok, error, unclear, missing, crash, hang
    detail: str = ""
    peak_mb: float = 0.0
    seconds: float = 0.0
    read: bool = False
    stderr: bool = False


def judge(kind: str, name: str, answer: dict, out: Path) -> Outcome:
    common = {"peak_mb": float(answer.get("peak_mb", 0.0)), "seconds": float(answer.get("seconds", 0.0))}
    if "crash" in answer:
        return Outcome(kind, name, "crash", str(answer["crash"]), **common)
    read = bool(answer.get("reports"))
    if not out.exists() or (not read and answer.get("error_kind") is None):
        return Outcome(kind, name, "missing", "no JSON or an empty result", read=read, **common)
    if answer.get("error_kind") is None:
        return Outcome(kind, name, "ok", read=read, **common)
    detail = f"{answer['error_kind']}: {answer.get('error_message')}"
    verdict = "unclear" if is_unclear(answer["error_kind"], answer.get("error_message")) else "error"
    return Outcome(kind, name, verdict, detail[:300], read=read, **common)


class Worker:
    """A worker process; answers one input at a time, or is killed for a hang or its RSS."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.stderr = log.open("ab")
        self.proc = subprocess.Popen([sys.executable, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True, bufsize=1, env=_worker_env())
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        self._read_line(timeout=300.0, rss_cap_mb=None)  # imports done

    def run(self, job: dict, timeout: float, rss_cap_mb: float) -> dict:
        before = self.log.stat().st_size
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        answer = self._read_line(timeout, rss_cap_mb)
        answer["stderr"] = self.log.stat().st_size > before
        return answer

    def _read_line(self, timeout: float, rss_cap_mb: float | None) -> dict:
        """The worker's answer, with the peak of its RSS sampled every 0.1 s while it worked."""
        deadline = time.monotonic() + timeout
        peak = 0.0
        while True:
            if self.selector.select(timeout=0.1):
                line = self.proc.stdout.readline()
                if not line:
                    return {"crash": f"worker died (exit {self.proc.wait()})", "dead": True, "peak_mb": peak}
                return {**json.loads(line), "peak_mb": round(max(peak, _rss_mb(self.proc.pid)), 1)}
            rss = _rss_mb(self.proc.pid)
            peak = max(peak, rss)
            if rss_cap_mb is not None and rss > rss_cap_mb:
                self.kill()
                return {"crash": f"over the RSS cap: {rss:.0f} MB > {rss_cap_mb:.0f} MB", "dead": True, "peak_mb": rss}
            if time.monotonic() > deadline:
                self.kill()
                return {"hang": True, "dead": True, "peak_mb": peak}

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.stderr.close()


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_fuzz(n: int, seed: int, workers: int, timeout: float, rss_cap_mb: float, keep: Path | None,
             quick: bool = False, progress: bool = True, checkpoint: Path | None = None) -> list[Outcome]:
    """The outcome of each input; `checkpoint`: a file the table so far is written to every 100 inputs."""
    started = time.monotonic()
    samples = load_samples()
    jobs = plan(n, seed, quick)
    work = Path(tempfile.mkdtemp(prefix="gongkai-fuzz-"))
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    queue = list(enumerate(jobs))

    def slot(number: int) -> None:
        worker = Worker(work / f"worker{number}.stderr")
        while True:
            with lock:
                if not queue:
                    break
                index, (kind, input_seed) = queue.pop(0)
            outcome = _one(worker, index, (kind, input_seed, quick), samples, work, timeout, rss_cap_mb, keep)
            if outcome.verdict in ("crash", "hang"):
                worker.close()
                worker = Worker(work / f"worker{number}.stderr")
            with lock:
                outcomes.append(outcome)
                if progress and len(outcomes) % 50 == 0:
                    print(f"  {len(outcomes)}/{len(jobs)} inputs", file=sys.stderr, flush=True)
                if checkpoint is not None and len(outcomes) % 100 == 0:
                    checkpoint.write_text(f"{len(outcomes)}/{len(jobs)} inputs after {time.monotonic() - started:.0f} s"
                                          f"\n{table(outcomes)[0]}\n", encoding="utf-8")
        worker.close()

    threads = [threading.Thread(target=slot, args=(k,)) for k in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    shutil.rmtree(work, ignore_errors=True)
    return outcomes


def _one(worker: Worker, index: int, job: tuple[str, int, bool], samples: list, work: Path,
         timeout: float, rss_cap_mb: float, keep: Path | None) -> Outcome:
    kind = job[0]
    name, data = make_input(*job[:2], samples, job[2])
    folder = work / f"{index:05d}"
    folder.mkdir()
    path, out = folder / name, folder / f"{name}.json"
    path.write_bytes(data)
    timeout *= SLOW_KINDS.get(kind, 1)
    answer = worker.run({"path": str(path), "out": str(out)}, timeout, rss_cap_mb)
    if answer.get("hang"):
        outcome = Outcome(kind, name, "hang", f"no answer within {timeout:.0f} s", seconds=timeout,
                          peak_mb=float(answer.get("peak_mb", 0.0)))
    else:
        outcome = judge(kind, name, answer, out)
    outcome.stderr = bool(answer.get("stderr"))
    if keep is not None and outcome.verdict not in ("ok", "error"):
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, keep / f"{index:05d}_{name}")
    shutil.rmtree(folder, ignore_errors=True)
    return outcome


COLUMNS = ("inputs", "crashes", "hangs", "missing", "unclear", "errors", "read", "stderr", "peak MB", "max s")


def table(outcomes: list[Outcome]) -> tuple[str, dict[str, dict[str, float]]]:
    """The markdown table per input kind (and in total), and the same numbers as data."""
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_kind[o.kind].append(o)
    rows = {kind: _row(group) for kind, group in sorted(by_kind.items())}
    rows["all"] = _row(outcomes)
    lines = ["| kind | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    lines += [f"| {kind} | " + " | ".join(f"{row[c]:g}" for c in COLUMNS) + " |" for kind, row in rows.items()]
    return "\n".join(lines), rows


def _row(group: list[Outcome]) -> dict[str, float]:
    count = lambda verdict: sum(o.verdict == verdict for o in group)  # noqa: E731
    return {
        "inputs": len(group), "crashes": count("crash"), "hangs": count("hang"), "missing": count("missing"),
        "unclear": count("unclear"), "errors": count("error"), "read": sum(o.read for o in group),
        "stderr": sum(o.stderr for o in group), "peak MB": round(max((o.peak_mb for o in group), default=0.0)),
        "max s": round(max((o.seconds for o in group), default=0.0), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_INPUTS} inputs (CI)")
    parser.add_argument("--n", type=int, default=10_000, help="number of inputs of the full run")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=None, help="seconds per input (hang past it)")
    parser.add_argument("--rss-mb", type=float, default=2048, help="worker RSS cap (a crash past it)")
    parser.add_argument("--json", type=Path, help="write outcomes and the table as JSON here")
    parser.add_argument("--keep", type=Path, help="copy inputs with a crash, hang, missing or unclear verdict here")
    parser.add_argument("--checkpoint", type=Path, help="write the table so far here every 100 inputs")
    args = parser.parse_args(argv)
    n = QUICK_INPUTS if args.quick else args.n
    timeout = args.timeout or (QUICK_TIMEOUT_S if args.quick else 180.0)  # LibreOffice alone may take 120 s
    started = time.monotonic()
    outcomes = run_fuzz(n, args.seed, args.workers, timeout, args.rss_mb, args.keep, quick=args.quick,
                        checkpoint=args.checkpoint)
    text, rows = table(outcomes)
    elapsed = time.monotonic() - started
    print(text)
    print(f"\n{len(outcomes)} inputs in {elapsed:.0f} s ({args.workers} workers, timeout {timeout:.0f} s, "
          f"RSS cap {args.rss_mb:.0f} MB, seed {args.seed})")
    for o in outcomes:
        if o.verdict in ("crash", "hang", "missing", "unclear"):
            print(f"  {o.verdict}: {o.kind} {o.name}: {o.detail}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "seconds": elapsed, "outcomes": [o.__dict__ for o in outcomes]},
                                        ensure_ascii=False, indent=1), encoding="utf-8")
    bad = rows["all"]
    return 1 if bad["crashes"] or bad["hangs"] or bad["missing"] or bad["unclear"] else 0


if __name__ == "__main__":
    sys.exit(main())
