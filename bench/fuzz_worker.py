"""One fuzz worker: reads input paths on stdin (one JSON line each), runs each through
extractors.pipeline.extract_file (the CLI's `extract`), writes the JSON as the CLI does and
answers one JSON line per input. bench/fuzz.py kills and replaces it on a hang or a blown
memory cap, so those are counted, not fatal.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main() -> None:
    from gongkai.extractors.pipeline import extract_file

    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        path, out = Path(job["path"]), Path(job["out"])
        started = time.monotonic()
        answer: dict[str, object] = {"path": str(path)}
        try:
            result = extract_file(path)
            out.write_text(result.to_json(), encoding="utf-8")
            answer.update(
                error_kind=result.error.kind if result.error else None,
                error_message=result.error.message if result.error else None,
                reports=len(result.reports),
                fields=sum(len(r.fields) for r in result.reports),
            )
        except BaseException as exc:  # noqa: BLE001 - an escape from extract_file is what we count
            answer.update(crash=f"{type(exc).__name__}: {exc}"[:300])
        answer.update(seconds=round(time.monotonic() - started, 3))
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
