"""Arithmetic of axis-aligned boxes (x0, y0, x1, y1) in page pixels, shared by the scan stages."""
from __future__ import annotations

from collections.abc import Iterable

from gongkai.models import BBox


def union(boxes: Iterable[BBox]) -> BBox:
    """The smallest box holding every box given."""
    x0s, y0s, x1s, y1s = zip(*boxes)
    return (min(x0s), min(y0s), max(x1s), max(y1s))


def area(box: BBox) -> float:
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


def intersection(a: BBox, b: BBox) -> float:
    """The area two boxes share."""
    return area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def centre_in(box: BBox, region: BBox) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return region[0] <= cx <= region[2] and region[1] <= cy <= region[3]
