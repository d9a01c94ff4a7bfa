"""OCR readings placed into a detected grid: one Cell per grid cell, doubts made explicit.

Detected text lines are clipped to the inside of the cell they sit in, so the
recogniser never sees a ruling line. A cell the detector left empty but that holds
ink (a lone small "0" is easy to miss) is read from its ink's bounding box.
Numeric cells get a second, digits-only reading; where the two disagree the cell
is flagged for review instead of trusting either silently.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import cv2
import numpy as np

from gongkai.models import BBox, Cell, GridCell, GridTable

from ..ocr.base import NUMERIC_CHARSET, BoxReader, Reading
from ..text import nfkc
from ..values import CellToken, classify_cell
from .boxes import centre_in, union

INSET_FRACTION = 0.08  # of the cell's smaller side, capped below: keeps ruling lines out of crops
MAX_INSET = 6
CUT_SHARE = 0.7  # a line clipped to less of its width than this runs across a rule
INK_LEVEL = 200  # gray below this can be ink on an evened page (faded print reads ~150) ...
INK_CONTRAST = 60  # ... when it is this much darker than the cell's paper
MIN_INK_PIXELS = 12
NUMERIC_COLUMN_SHARE = 0.6  # of a column's filled body cells that read as numbers
MAX_STRAYS = 2  # non-digit characters a misread number may show (0 as O, o, U; 1 as l)
MAX_NUMBER_CHARS = 14
_DIGITLESS_ALLOWED = set(NUMERIC_CHARSET)
_DASH_LOOKALIKES = "一"  # a printed dash ('—') reads as the ideograph for one


@dataclass
class CellReading:
    """The crops of one grid cell and, once read, their text."""

    grid: GridCell
    boxes: list[BBox] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)
    digits: Reading | None = None
    cut: list[BBox] = field(default_factory=list)  # detected lines the cell's borders cut short
    flags: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        lines = _lines_in_order(list(zip(self.boxes, self.readings)))
        return " ".join(line for line in lines if line)

    @property
    def confidence(self) -> float:
        return min((r.confidence for r in self.readings if r.text.strip()), default=1.0)


def assign_lines(grids: list[GridTable], boxes: list[BBox]) -> tuple[list[list[CellReading]], list[BBox]]:
    """Each detected box into the cell holding its centre (clipped to the cell's inside); the rest is page text."""
    tables = [[CellReading(c) for c in g.cells] for g in grids]
    outside: list[BBox] = []
    for box in boxes:
        cell = _cell_at(tables, grids, box)
        if cell is None:
            outside.append(box)
            continue
        clipped = _clip(box, _inside(cell.grid.bbox))
        if clipped is not None:
            cell.boxes.append(clipped)
            if clipped[2] - clipped[0] < CUT_SHARE * (box[2] - box[0]):
                cell.cut.append(box)
    return tables, outside


def _cell_at(tables: list[list[CellReading]], grids: list[GridTable], box: BBox) -> CellReading | None:
    for cells, grid in zip(tables, grids):
        if centre_in(box, grid.bbox):
            found = next((cell for cell in cells if centre_in(box, cell.grid.bbox)), None)
            if found is not None:
                return found
    return None


def _inside(b: BBox) -> BBox:
    inset = min(MAX_INSET, INSET_FRACTION * min(b[2] - b[0], b[3] - b[1]))
    return (b[0] + inset, b[1] + inset, b[2] - inset, b[3] - inset)


def _clip(box: BBox, area: BBox) -> BBox | None:
    x0, y0, x1, y1 = max(box[0], area[0]), max(box[1], area[1]), min(box[2], area[2]), min(box[3], area[3])
    return (x0, y0, x1, y1) if x1 - x0 >= 3 and y1 - y0 >= 5 else None


def add_ink_boxes(tables: list[list[CellReading]], gray: np.ndarray) -> None:
    """Cells with no detected line but with ink get the ink's bounding box as their one line."""
    for cells in tables:
        for cell in cells:
            if not cell.boxes:
                box = _ink_box(gray, _inside(cell.grid.bbox))
                if box is not None:
                    cell.boxes.append(box)


def _ink_box(gray: np.ndarray, area: BBox) -> BBox | None:
    x0, y0, x1, y1 = (int(round(v)) for v in area)
    patch = gray[max(y0, 0):y1, max(x0, 0):x1]
    if patch.size == 0:
        return None
    paper = float(np.percentile(patch, 90))
    ink = (patch < min(INK_LEVEL, paper - INK_CONTRAST)).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    # Specks and rule remnants along the edge are not text.
    keep = [s for s in stats[1:] if s[cv2.CC_STAT_AREA] >= 3 and s[cv2.CC_STAT_HEIGHT] >= 4
            and s[cv2.CC_STAT_WIDTH] < 0.95 * patch.shape[1] and s[cv2.CC_STAT_HEIGHT] < 0.95 * patch.shape[0]]
    if sum(int(s[cv2.CC_STAT_AREA]) for s in keep) < MIN_INK_PIXELS:
        return None
    left = min(s[0] for s in keep)
    top = min(s[1] for s in keep)
    right = max(s[0] + s[2] for s in keep)
    bottom = max(s[1] + s[3] for s in keep)
    pad = 3
    return (x0 + left - pad, y0 + top - pad, x0 + right + pad, y0 + bottom + pad)


def read_cells(tables: list[list[CellReading]], reader: BoxReader) -> None:
    """Every crop of every cell read in one call; then the digits-aware pass on numeric cells."""
    jobs = [(cell, box) for cells in tables for cell in cells for box in cell.boxes]
    for (cell, _), reading in zip(jobs, reader.read([box for _, box in jobs])):
        cell.readings.append(reading)
    numeric = [c for cells in tables for c in _numeric_cells(cells)]
    _reread_as_one_line(numeric, reader)
    for cell in (c for c in numeric if len(c.readings) == 1):
        cell.digits = cell.readings[0].constrained  # None where the backend cannot constrain a pass


def _reread_as_one_line(cells: list[CellReading], reader: BoxReader) -> None:
    """A number the detector cut in pieces on one line ('4' '0') is read again whole: the
    recogniser, not a guess about the gap, decides whether a space is printed there."""
    split = [c for c in cells if len(c.boxes) > 1 and len(group_lines([(b, "") for b in c.boxes])) == 1]
    unions = [union(c.boxes) for c in split]
    for cell, box, reading in zip(split, unions, reader.read(unions)):
        cell.boxes, cell.readings = [box], [reading]


def _numeric_cells(cells: list[CellReading]) -> list[CellReading]:
    """Cells that read as numbers, and number-like readings in a column or row of numbers
    (a lone 'O' among the zeros of a value row is a misread 0, not a label)."""
    filled = [c for c in cells if c.readings]
    numbers = {id(c) for c in filled if _misread_number(_plain(c.text))}
    groups: dict[tuple[str, int, int], list[CellReading]] = {}
    for cell in filled:
        g = cell.grid
        groups.setdefault(("col", g.col, g.col_span), []).append(cell)
        groups.setdefault(("row", g.row, g.row_span), []).append(cell)
    numeric_groups = {key for key, members in groups.items()
                      if sum(id(c) in numbers for c in members) >= NUMERIC_COLUMN_SHARE * len(members)}
    return [c for c in filled if id(c) in numbers or (_mostly_numeric(reading_token(c.text)) and any(
        key in numeric_groups for key in (("col", c.grid.col, c.grid.col_span), ("row", c.grid.row, c.grid.row_span))))]


def reads_as_number(text: str) -> bool:
    """A reading that is a number, a dash, or a number with a misread digit or two."""
    token = reading_token(text)
    return _misread_number(token.text) or _mostly_numeric(token)


def reading_token(text: str) -> CellToken:
    """A reading as the one cell grammar sees it, spaces dropped (the detector splits pieces apart)."""
    return classify_cell(_plain(text))


def _misread_number(plain: str) -> bool:
    """A number once its separators are set aside: OCR reads a decimal point as a comma (60,62)
    or doubles it, so where the points fall does not make a reading a label."""
    return classify_cell(plain.replace(",", "").replace(".", "")).kind == "number"


def _mostly_numeric(token: CellToken) -> bool:
    """A reading a misread number would give: digits with at most a stray letter or two."""
    plain = token.text
    strays = [ch for ch in plain if ch not in _DIGITLESS_ALLOWED]
    # Misread digits come out as look-alike letters and marks, never as words ('3.其他' is a label).
    words = [ch for ch in strays if "\u4e00" <= ch <= "\u9fff" and ch not in _DASH_LOOKALIKES]
    return bool(plain) and not words and len(strays) <= MAX_STRAYS and len(plain) <= MAX_NUMBER_CHARS


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", nfkc(text))


def to_cell(cell: CellReading, page: int) -> Cell:
    """The grid cell as a Cell: text as read, weakest character's confidence, doubts as flags."""
    text, flags = cell.text, list(cell.flags)
    confidence = cell.confidence
    if cell.digits is not None:
        free, digits = _plain(text), _plain(cell.digits.text)
        if digits in (free, _beyond_charset_unit_dropped(free)):
            # Both readings agree, so the doubt left is which digit it is: the digits-only
            # pass measures exactly that (the free reading also spends probability on 0/O/o).
            confidence = cell.digits.confidence
        else:
            flags.append(f"OCR read '{text}' here and '{cell.digits.text}' reading digits only: check the image")
            text = cell.digits.text if digits else text
            confidence = min(confidence, cell.digits.confidence)
        text = _stray_marks_flagged(text, flags)
        if re.search(r"\d\s+\d", text):
            # Wide (full-width) digits look spaced out; one number is the only reading a count cell allows.
            flags.append(f"OCR saw digits set apart ('{text}'), read as one number: check the image")
            text = re.sub(r"(?<=\d)\s+(?=\d)", "", text)
    g = cell.grid
    return Cell(row=g.row, col=g.col, row_span=g.row_span, col_span=g.col_span, text=text, bbox=g.bbox,
                page=page, confidence=round(max(0.0, min(1.0, confidence)), 4), source="ocr", flags=flags)


def _beyond_charset_unit_dropped(plain: str) -> str:
    """A number whose unit the digits-only pass cannot spell (12件) without that unit: that pass
    reads its digits, and agreeing on them is agreeing on the number."""
    token = classify_cell(plain)
    if token.kind == "number" and token.unit and not set(token.unit) <= _DIGITLESS_ALLOWED:
        return plain[: len(plain) - len(token.unit)]
    return plain


def _stray_marks_flagged(text: str, flags: list[str]) -> str:
    """Signs or marks where a number cannot have them ('0+', '1-2'): a seal's speck or a rule's
    remnant read as a character. Dropped from the reading, and the cell flagged for review."""
    plain = _plain(text)
    kept = _number_start(plain)
    if kept is None or kept == plain:
        return text
    flags.append(
        f"OCR read '{text}': '{plain[len(kept) :]}' cannot follow a number there (a speck?), "
        f"read as '{kept}': check the image"
    )
    return kept


def _number_start(plain: str) -> str | None:
    """The longest start of a reading that is a (misread) number and ends in its digits or unit."""
    for end in range(len(plain), 0, -1):
        if plain[end - 1] not in ".," and _misread_number(plain[:end]):
            return plain[:end]
    return None


def _lines_in_order(items: list[tuple[BBox, Reading]]) -> list[str]:
    """Boxes grouped into lines (vertical overlap), lines top to bottom, boxes left to right."""
    return [text for _, text in group_lines([(b, r.text) for b, r in items])]


def group_lines(items: list[tuple[BBox, str]]) -> list[tuple[BBox, str]]:
    """Pieces on one baseline joined left to right (a space where they stand apart); lines top down."""
    lines: list[list[tuple[BBox, str]]] = []
    for box, text in sorted(items, key=lambda it: (it[0][1] + it[0][3]) / 2):
        if lines and _same_line(lines[-1][-1][0], box):
            lines[-1].append((box, text))
        else:
            lines.append([(box, text)])
    out = []
    for line in lines:
        line.sort(key=lambda it: it[0][0])
        text = line[0][1]
        for (prev, _), (box, piece) in zip(line, line[1:]):
            gap = box[0] - prev[2]
            text += (" " if gap > 1.5 * (box[3] - box[1]) else "") + piece
        boxes = [b for b, _ in line]
        bbox = union(boxes)
        out.append((bbox, text))
    return out


def _same_line(a: BBox, b: BBox) -> bool:
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    return overlap > 0.5 * min(a[3] - a[1], b[3] - b[1])
