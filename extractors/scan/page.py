"""One page image to text blocks and tables: normalise, detect lines, find grids and layout regions,
OCR, fill the cells."""
from __future__ import annotations

import cv2
import layoutparser as lp
import numpy as np

from gongkai.models import BBox, Cell, GridTable, PageError, ScanPageState, TablePart, TextBlock
from gongkai.models.parts import SCAN_TABLE_METHODS, SCAN_TABLE_QUALITY

from ..ocr.base import BoxReader, OcrBackend, Reading, crop
from .aligned import aligned_grids, text_table_regions
from .cells import CellReading, add_ink_boxes, assign_lines, group_lines, read_cells, reads_as_number, to_cell
from .grid import find_grids, has_rules
from .layout import detect_layout, join_regions, regions, unruled_regions
from .normalise import normalise_page
from .wired import wired_grid

EDGE_TOLERANCE_FRACTION = 0.012  # of the page width: column rules of two pages' table parts agree within this
DET_SCALE_WIDTH = 1000  # px: pages are shrunk to this width for line detection (A4 at 200 dpi: 10.5 pt text ~17 px)
AREA_MARGIN = 24  # px kept around the printed area for detection
MIN_INK_SHARE = 0.002  # a page with less dark area than this is blank
UPRIGHT_LINES = 5  # widest text lines read both ways up
UPRIGHT_CHARS = 10  # of each, only the first characters' width
UPRIGHT_MIN_RATIO = 4.0  # width/height of a line of words rather than a number
UPRIGHT_MARGIN = 0.1  # mean character confidence by which the turned reading must win
UPRIGHT_SURE = 0.9  # upright lines read at 0.97-1.0 on the benchmark, turned ones at most 0.87


ScannedPage = ScanPageState  # the page state after the last stage (models/scan.py)


def read_page(number: int, image: np.ndarray, backend: OcrBackend) -> ScanPageState:
    """The page image through the scan stages, each `(ScanPageState) -> ScanPageState`; a blank page stops
    after the first."""
    state = normalise(ScanPageState(number=number, image=image, backend=backend))
    if state.blank:
        return state
    for stage in PAGE_STAGES:
        state = stage(state)
    return state


def normalise(state: ScanPageState) -> ScanPageState:
    """Quarter turns, skew and seals from the page's structure (upside down is decided later); grey and BGR copies."""
    image = state.image
    if _is_blank(image):
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        return state.model_copy(update={"image": gray, "blank": True, "notes": ["blank page"]})
    norm = normalise_page(image)
    return state.model_copy(update={"image": norm.image, "bgr": cv2.cvtColor(norm.image, cv2.COLOR_GRAY2BGR),
                                    "notes": list(norm.notes)})


def find_text_lines(state: ScanPageState) -> ScanPageState:
    return state.model_copy(update={"boxes": detect_lines(state.backend, state.bgr, _printed_area(state.image))})


def find_ruled_grids(state: ScanPageState) -> ScanPageState:
    return state.model_copy(update={"grids": find_grids(state.image), "reader": BoxReader(state.backend, state.bgr)})


def turn_if_upside_down(state: ScanPageState) -> ScanPageState:
    """The page turned 180° where its text reads better that way: boxes turned, grids found again."""
    if not upside_down(state.reader, _boxes_as_read(state.grids, state.boxes)):
        return state
    gray, bgr = cv2.rotate(state.image, cv2.ROTATE_180), cv2.rotate(state.bgr, cv2.ROTATE_180)
    boxes = [_turned(b, gray.shape[1], gray.shape[0]) for b in state.boxes]
    return state.model_copy(update={"image": gray, "bgr": bgr, "boxes": boxes, "grids": find_grids(gray),
                                    "reader": BoxReader(state.backend, bgr),
                                    "notes": [*state.notes, "turned 180° (the text read upside down)"]})


def find_layout(state: ScanPageState) -> ScanPageState:
    return state.model_copy(update={"layout": detect_layout(state.bgr)})


def find_unruled_grids(state: ScanPageState) -> ScanPageState:
    """The tables without rules the layout model or the text's alignment finds; the page's regions."""
    notes, lost = list(state.notes), list(state.lost)
    grids = state.grids + _unruled_grids(state.bgr, state.layout, state.grids, state.boxes, state.reader, notes, lost)
    grids.sort(key=lambda g: g.bbox[1])
    errors = [*state.errors, *(PageError(page=state.number, stage="tables", kind="table-structure-lost", message=m)
                               for m in lost)]
    return state.model_copy(update={"grids": grids, "notes": notes, "lost": lost, "errors": errors,
                                    "regions": regions(state.layout, grids)})


def assign(state: ScanPageState) -> ScanPageState:
    """Each line box into the grid cell holding it; the rest is the page's text."""
    cells, outside = assign_lines(state.grids, state.boxes)
    return state.model_copy(update={"cells": cells, "outside": outside})


def read_table_cells(state: ScanPageState) -> ScanPageState:
    """Every cell's text (cells with ink but no detected line read by their ink): fills the assign stage's cells."""
    add_ink_boxes(state.cells, state.image)
    read_cells(state.cells, state.reader)
    return state


def cut_numbers(state: ScanPageState) -> ScanPageState:
    notes = list(state.notes)
    check_cut_numbers(state.grids, state.cells, state.bgr, notes)
    return state.model_copy(update={"notes": notes})


def parts(state: ScanPageState) -> ScanPageState:
    """The page's text blocks and table parts, top to bottom; the working images, reader and layout are let go."""
    number = state.number
    tolerance = EDGE_TOLERANCE_FRACTION * state.width
    tables = [_part(number, grid, [to_cell(c, number) for c in cells], tolerance)
              for grid, cells in zip(state.grids, state.cells)]
    items: list[TextBlock | TablePart] = [*_text_blocks(number, state.outside, state.reader), *tables]
    items.sort(key=lambda it: it.bbox[1] if it.bbox else 0.0)
    return state.model_copy(update={"items": items, "bgr": None, "backend": None, "reader": None, "layout": None})


PAGE_STAGES = (find_text_lines, find_ruled_grids, turn_if_upside_down, find_layout, find_unruled_grids, assign,
               read_table_cells, cut_numbers, parts)


def _unruled_grids(image: np.ndarray, layout: lp.Layout, grids: list[GridTable], boxes: list[BBox],
                   reader: BoxReader, notes: list[str], lost: list[str]) -> list[GridTable]:
    """Grids of the tables the layout model sees where the lattice found no rules: faint or
    broken rules the wired-table-rec model may still see (it draws rules where there are
    none, so only where some are), else the alignment of the text.
    The model takes some tables without rules for figures and misses others: figures and
    runs of text lines set in cells count only where their text stands in value columns.
    A table neither way finds stays text lines, and is in `lost`: its structure is."""
    found = []
    found_by_text = [("text", b) for b in text_table_regions(boxes, reader, grids)]
    for kind, box in join_regions(unruled_regions(layout, grids) + found_by_text):
        where = tuple(round(v) for v in box)
        modelled = wired_grid(image, box) if kind == "table" and has_rules(image, box) else None
        aligned = aligned_grids(box, boxes, reader, grids) if modelled is None else []
        if modelled is not None:
            found.append(modelled)
            notes.append(f"table at {where}: structure from the wired-table model")
        elif aligned:
            found += aligned
            notes.append(
                f"{kind} at {where} is a table without ruling lines: rows and columns from the alignment of its text"
            )
        elif kind == "table":
            lost.append(f"a table without ruling lines at {where}: no grid found, read as text lines")
    return found


def check_cut_numbers(
    grids: list[GridTable], tables: list[list[CellReading]], image: np.ndarray, notes: list[str]
) -> None:
    """The wired-table model as a check on the lattice where a detected text line runs across
    one of its rules into a cell that reads as a number: if the model draws no rule there (a
    stroke or a stain taken for one), the cell is flagged, as it may hold only part of the
    number. The model (~0.3-0.9 s a table) runs only on such grids; a line cut by a real
    rule is usually two header words the detector joined, and costs nothing."""
    for grid, cells in zip(grids, tables):
        cut = [(cell, box) for cell in cells if reads_as_number(cell.text) for box in cell.cut]
        if not cut or grid.method != "lattice":
            continue
        model = wired_grid(image, grid.bbox)
        doubted = [cell for cell, box in cut if model is None or _holds_whole(model, box)]
        for cell in doubted:
            cell.flags.append("a text line runs across a ruling line here that the wired-table model "
                              + ("could not check" if model is None else "does not draw")
                              + ": the cell may hold only part of it, check the image")
        if doubted:
            notes.append(f"table at {tuple(round(v) for v in grid.bbox)}: {len(doubted)} cell(s) cut through "
                         "text where the wired-table model sees no rule: flagged")


def _holds_whole(grid: GridTable, box: BBox) -> bool:
    """Whether one cell of `grid` holds the line's middle and nearly all its width."""
    cy = (box[1] + box[3]) / 2
    width = box[2] - box[0]
    return any(c.bbox[1] <= cy <= c.bbox[3] and min(c.bbox[2], box[2]) - max(c.bbox[0], box[0]) >= 0.9 * width
               for c in grid.cells)


def _boxes_as_read(grids: list[GridTable], boxes: list[BBox]) -> list[BBox]:
    """The line boxes as they will be read: clipped to the inside of the grid cell they fall in."""
    tables, outside = assign_lines(grids, boxes)
    return [*outside, *(b for cells in tables for cell in cells for b in cell.boxes)]


def detect_lines(backend: OcrBackend, image: np.ndarray, area: BBox) -> list[BBox]:
    """Text line boxes, found within the page's printed `area` on a copy shrunk to DET_SCALE_WIDTH:
    detection cost grows with area, and margins and blank half-pages hold nothing to find."""
    x0, y0, x1, y1 = (int(v) for v in area)
    scale = min(1.0, DET_SCALE_WIDTH / image.shape[1])
    crop = image[y0:y1, x0:x1]
    small = crop if scale == 1.0 else cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return [(bx0 / scale + x0, by0 / scale + y0, bx1 / scale + x0, by1 / scale + y0)
            for bx0, by0, bx1, by1 in backend.detect(small)]


def _printed_area(gray: np.ndarray) -> BBox:
    """The box around everything darker than paper, with a margin; the whole page if nothing is."""
    step = 4
    rows, cols = np.nonzero(gray[::step, ::step] < 160)
    h, w = gray.shape
    if rows.size == 0:
        return 0, 0, w, h
    pad = AREA_MARGIN
    return (max(int(cols.min()) * step - pad, 0), max(int(rows.min()) * step - pad, 0),
            min(int(cols.max()) * step + step + pad, w), min(int(rows.max()) * step + step + pad, h))


def upside_down(reader: BoxReader, boxes: list[BBox]) -> bool:
    """Whether the page reads better turned 180°, judged on its widest text lines.

    Wide lines are words: digits (0, 1, 8) read almost as well upside down, words do not.
    Upright, the lines are read whole through `reader`, which keeps the readings for the
    page's text and cells: on an upright page the check costs nothing. Only a page that
    reads badly has the first characters of its lines read turned over as well.
    """
    lines = sorted((b for b in boxes if b[2] - b[0] >= UPRIGHT_MIN_RATIO * (b[3] - b[1])),
                   key=lambda b: b[0] - b[2])[:UPRIGHT_LINES]
    if not lines:
        return False
    upright = _mean_confidence(reader.read(lines))
    if upright >= UPRIGHT_SURE:  # text turned over never reads this well: no need to try it
        return False
    # The first dozen characters of a line say which way up it is as well as the whole line.
    starts = [(b[0], b[1], min(b[2], b[0] + UPRIGHT_CHARS * (b[3] - b[1])), b[3]) for b in lines]
    crops = [cv2.rotate(crop(reader.image, b), cv2.ROTATE_180) for b in starts]
    turned = _mean_confidence(reader.backend.recognise(crops))
    return turned > upright + UPRIGHT_MARGIN


def _mean_confidence(readings: list[Reading]) -> float:
    confidences = [c for r in readings for c in r.char_confidences]
    return float(np.mean(confidences)) if confidences else 0.0


def _turned(box: BBox, width: int, height: int) -> BBox:
    x0, y0, x1, y1 = box
    return (width - x1, height - y1, width - x0, height - y0)


def _is_blank(image: np.ndarray) -> bool:
    """Nothing darker than paper: no page content to normalise or read (colour noise is not ink)."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, (max(gray.shape[1] // 4, 1), max(gray.shape[0] // 4, 1)), interpolation=cv2.INTER_AREA)
    return float((small < 200).mean()) < MIN_INK_SHARE  # strokes thinner than 4 px average out grey


def _text_blocks(number: int, boxes: list[BBox], reader: BoxReader) -> list[TextBlock]:
    readings = reader.read(boxes)
    pieces = [(b, r.text) for b, r in zip(boxes, readings) if r.text.strip()]
    return [TextBlock(text=text, page=number, bbox=bbox) for bbox, text in group_lines(pieces)]


def _part(number: int, grid: GridTable, cells: list[Cell], tolerance: float) -> TablePart:
    return TablePart(page=number, bbox=grid.bbox, bounds=list(grid.col_lines), n_rows=grid.n_rows, cells=cells,
                     edge_tolerance=tolerance, last_page=number, last_bottom=grid.bbox[3],
                     method=SCAN_TABLE_METHODS[grid.method], quality=SCAN_TABLE_QUALITY.get(grid.method))
