"""Pydantic types every stage shares. No I/O."""
from .document import (
    BBox, Block, Cell, CellSource, Document, Page, PageError, PageNote, SourceInfo, Table, TableMethod, TextBlock,
)
from .extraction import ExtractionState, ExtractionStatus, PageState, ReportState
from .parts import PageImage, Reading, Segment, TablePart
from .report import (
    SCHEMA,
    CheckResult,
    DocumentStatus,
    ExtractionResult,
    FieldStatus,
    FieldValue,
    Report,
    ReportKind,
    StageError,
    TemplateId,
    UnmappedCell,
)
from .scan import GridCell, GridTable, OcrLine, PageRegion, ScannedPages, ScanPageState
from .template import ColumnSpec, LearnedLabel, RowSpec, RuleSpec, TableSpec, Template, Thresholds

__all__ = [
    "BBox", "Block", "Cell", "CellSource", "Document", "Page", "PageError", "PageNote", "SourceInfo", "Table",
    "TableMethod", "TextBlock", "ExtractionState", "ExtractionStatus", "PageState", "ReportState",
    "PageImage", "Reading", "Segment", "TablePart", "SCHEMA", "CheckResult", "DocumentStatus", "ExtractionResult", "FieldStatus", "FieldValue", "Report",
    "ReportKind", "StageError", "TemplateId", "UnmappedCell",
    "GridCell", "GridTable", "OcrLine", "PageRegion", "ScannedPages", "ScanPageState",
    "ColumnSpec", "LearnedLabel", "RowSpec", "RuleSpec", "TableSpec", "Template", "Thresholds",
]
