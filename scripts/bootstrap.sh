#!/usr/bin/env bash
# Create .venv and install gongkai with its pinned dependencies (PyPI only; ~1.5 GB, ~1-2 min).
# Idempotent: re-running only installs what changed.
# Extras: GONGKAI_EXTRAS (comma-separated), default dev,postgres: the test tools and the
# PostgreSQL driver; add paddle for the paddleocr backend (GONGKAI_EXTRAS=dev,postgres,paddle).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), f"gongkai needs Python 3.11, found {sys.version}"'
[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >&2
EXTRAS=${GONGKAI_EXTRAS:-dev,postgres}
.venv/bin/python -m pip install -q -e ".[$EXTRAS]" >&2
echo "installed: $(.venv/bin/gongkai --help >/dev/null && echo gongkai CLI ready)" >&2
