"""One key for one agency, however a report prints its name.

The key is the name in NFKC with everything but CJK letters, Latin letters and digits
removed, so that spacing, brackets and width do not split one agency in two.
"""
from __future__ import annotations

import re

from .text import nfkc

_NOT_NAME = re.compile(r"[^0-9A-Za-z\u4e00-\u9fff]")


def agency_key(name: str | None) -> str | None:
    if not name:
        return None
    return _NOT_NAME.sub("", nfkc(name)) or None
