"""Word 2007+ (.docx): body paragraphs and tables in order, with merged cells as spans.

python-docx opens the package; the body is walked at the XML level because
python-docx's Table.cell() repeats a merged cell at every grid position, while
we need each merged cell once with its spans.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import docx
from docx.oxml.ns import qn
from lxml.etree import XMLParser, XPath, _Element, fromstring

from gongkai.config import load_thresholds
from gongkai.models import Cell, Document, SourceInfo, Table, TextBlock
from gongkai.models.document import CellSource

from ..text import collapse_spaces
from .base import ReaderError, check_file_size

MAX_DOCX_BYTES = 200 * 1024 * 1024

_P, _TBL, _TR, _TC, _SDT = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc"), qn("w:sdt")
_SAFE_XML = XMLParser(resolve_entities=False, no_network=True)
_SDT_CONTENT, _CUSTOM_XML = qn("w:sdtContent"), qn("w:customXml")
_VAL = qn("w:val")
# Run-level text: w:t, tabs and breaks; deleted text and field codes never show.
_TEXT_NODES = XPath(
    ".//w:t[not(ancestor::w:del) and not(ancestor::mc:Fallback)]"
    " | .//w:tab[not(ancestor::w:tabs)] | .//w:br | .//w:cr",
    namespaces={
        "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
        "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
    },
)


def _children(el: _Element) -> list[_Element]:
    """Block-level children, looking through content controls and custom XML wrappers."""
    out: list[_Element] = []
    for child in el:
        if child.tag == _SDT:
            content = child.find(_SDT_CONTENT)
            out.extend(_children(content) if content is not None else [])
        elif child.tag == _CUSTOM_XML:
            out.extend(_children(child))
        else:
            out.append(child)
    return out


def paragraph_text(p: _Element) -> str:
    parts = [node.text or "" if node.tag == qn("w:t") else " " for node in _TEXT_NODES(p)]
    return collapse_spaces("".join(parts))


def _prop(el: _Element, *path: str) -> _Element | None:
    node: _Element | None = el
    for name in path:
        node = node.find(qn(name)) if node is not None else None
    return node


def _int_val(node: _Element | None, default: int) -> int:
    try:
        return max(1, int(node.get(_VAL))) if node is not None else default
    except (TypeError, ValueError):
        return default


@dataclass
class _Grid:
    """Cells being placed for one table; `open_v` holds vMerge cells still growing, by column."""

    source: CellSource
    cells: list[Cell] = field(default_factory=list)
    open_v: dict[int, Cell] = field(default_factory=dict)
    nested: list[_Element] = field(default_factory=list)


def _cell_text(tc: _Element, grid: _Grid) -> str:
    """Paragraph texts of a cell; nested tables are queued to be emitted after the outer one."""
    texts: list[str] = []
    for child in _children(tc):
        if child.tag == _P:
            texts.append(paragraph_text(child))
        elif child.tag == _TBL:
            grid.nested.append(child)
    return collapse_spaces(" ".join(texts))


def _place_row(tr: _Element, r: int, grid: _Grid) -> None:
    col = _int_val(_prop(tr, "w:trPr", "w:gridBefore"), 0)
    still_open: dict[int, Cell] = {}
    last: Cell | None = None
    for tc in (c for c in _children(tr) if c.tag == _TC):
        span = _int_val(_prop(tc, "w:tcPr", "w:gridSpan"), 1)
        v_merge = _prop(tc, "w:tcPr", "w:vMerge")
        h_merge = _prop(tc, "w:tcPr", "w:hMerge")
        text = _cell_text(tc, grid)
        above = grid.open_v.get(col)
        if v_merge is not None and v_merge.get(_VAL) in (None, "continue") and above is not None:
            above.row_span = r - above.row + 1  # continue: the restart cell grows down
            still_open[col] = above
        elif h_merge is not None and h_merge.get(_VAL) in (None, "continue") and last is not None:
            last.col_span += span  # legacy horizontal merge: widen the cell on the left
        else:
            last = Cell(row=r, col=col, col_span=span, text=text, source=grid.source)
            grid.cells.append(last)
            if v_merge is not None:
                still_open[col] = last
        col += span
    grid.open_v = still_open  # a column without a continue closes its merge


def build_table(tbl: _Element, source: CellSource) -> tuple[Table | None, list[_Element]]:
    """The table's grid (None when it has no cells) and its nested tables, in order."""
    grid = _Grid(source=source)
    rows = [c for c in _children(tbl) if c.tag == _TR]
    for r, tr in enumerate(rows):
        _place_row(tr, r, grid)
    if not grid.cells:
        return None, grid.nested
    declared = len(tbl.findall(f"{qn('w:tblGrid')}/{qn('w:gridCol')}"))
    n_cols = max(declared, max(c.col + c.col_span for c in grid.cells))
    return Table(cells=grid.cells, n_rows=len(rows), n_cols=n_cols,
                 method="doc" if source == "doc" else "docx"), grid.nested


def walk_body(body: _Element, source: CellSource) -> list[TextBlock | Table]:
    blocks: list[TextBlock | Table] = []
    for child in _children(body):
        if child.tag == _P:
            text = paragraph_text(child)
            if text:
                blocks.append(TextBlock(text=text))
        elif child.tag == _TBL:
            blocks.extend(_table_blocks(child, source))
    return blocks


def _table_blocks(tbl: _Element, source: CellSource) -> list[TextBlock | Table]:
    table, nested = build_table(tbl, source)
    blocks: list[TextBlock | Table] = [table] if table is not None else []
    for inner in nested:
        blocks.extend(_table_blocks(inner, source))
    return blocks


def _check_package(path: Path) -> None:
    """A readable package whose XML, unpacked, fits the cap: python-docx parses every part it
    loads, and a 4 MB zip can hold 300 MB of XML (3 GB once parsed)."""
    check_file_size(path, MAX_DOCX_BYTES, "DOCX")
    try:
        with zipfile.ZipFile(path) as zf:
            zf.getinfo("word/document.xml")
            xml_bytes = sum(i.file_size for i in zf.infolist() if i.filename.endswith((".xml", ".rels")))
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ReaderError("corrupt", f"{path.name} is not a readable DOCX package: {exc}") from exc
    cap = load_thresholds().limits.docx_xml_bytes
    if xml_bytes > cap:
        raise ReaderError("too-large", f"{path.name}: its XML unpacks to {xml_bytes} bytes; more than {cap} "
                          "(limits.docx_xml_bytes in config/thresholds.yaml) is refused as a likely zip bomb")


class DocxReader:
    """Reads .docx; `cell_source` lets the .doc reader reuse it and keep its own name."""

    media_types: tuple[str, ...] = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",)

    def __init__(self, cell_source: CellSource = "docx") -> None:
        self.cell_source = cell_source

    def read(self, path: Path, source: SourceInfo) -> Document:
        _check_package(path)
        return Document(source=source, blocks=walk_body(_body(path), self.cell_source))


def _body(path: Path) -> _Element:
    """The w:body element, via python-docx, else straight from word/document.xml.

    python-docx refuses macro-enabled (.docm) and template (.dotx) packages by
    content type although their body is the same WordprocessingML.
    """
    try:
        return docx.Document(str(path)).element.body
    except Exception as first:  # python-docx raises many types for a damaged package
        try:
            with zipfile.ZipFile(path) as zf:
                root = fromstring(zf.read("word/document.xml"), parser=_SAFE_XML)
            body = root.find(qn("w:body"))
        except Exception as exc:
            raise ReaderError("corrupt", f"{path.name}: cannot open as DOCX: {first}") from exc
        if body is None:
            raise ReaderError("corrupt", f"{path.name}: word/document.xml has no body ({first})") from first
        return body
