"""The canonical templates as typed data, loaded from config/templates/*.yaml."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

ValueType = Literal["count", "signed", "amount_wan"]


class ColumnSpec(BaseModel):
    id: str
    label: str
    aliases: list[str] = Field(default_factory=list)
    parent: str | None = None


class RowSpec(BaseModel):
    """One printed row of a template table, in printed order."""

    id: str
    label: str
    parents: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    columns: list[str] = Field(
        default_factory=list, description="column ids in printed order; empty means the table's"
    )
    type: ValueType = "count"
    unit: str | None = None
    optional: bool = Field(default=False, description="a variant row that many reports omit")
    canonical_in: list[str] = Field(
        default_factory=list,
        description="templates whose canonical fields (docs/canonical-fields.md) include this optional row "
        "all the same: a report of that template that lacks it lists its fields as not found",
    )
    section: str | None = Field(default=None, description="the printed section, e.g. 第二十条第（五）项")
    templates: list[str] | None = Field(
        default=None, description="only in these templates (a shared table's variant rows)"
    )


class TableSpec(BaseModel):
    id: str = Field(pattern=r"^[a-z][a-z_]*$", description="the first part of its field ids (docs/canonical-fields.md)")
    title: str
    section_cues: list[str] = Field(
        default_factory=list,
        description="regular expressions over label keys (extractors.text.label_key): a text block or "
        "label cell matching one starts this table (extractors/rows.py)",
    )
    title_aliases: list[str] = Field(default_factory=list)
    header_cues: list[str] = Field(
        default_factory=list,
        description="texts a printed header of this table holds besides its column labels "
        "(行政复议, 申请人情况, 信息内容): a table's header names its table (extractors/headers.py)",
    )
    columns: list[ColumnSpec] = Field(default_factory=list)
    rows: list[RowSpec]
    layout: Literal["rows", "single_row", "indicator"] = Field(
        default="rows",
        description="rows: label then values per row; single_row: every value in one row "
        "(appeals); indicator: label, unit, value (legacy)",
    )
    column_labels: dict[str, str] = Field(
        default_factory=dict, description="column id -> printed header label for row-specific columns"
    )
    column_types: dict[str, ValueType] = Field(
        default_factory=dict, description="value type by column id, where it is not the row's"
    )

    def header_cue_texts(self) -> list[str]:
        """What a printed header of this table holds: its cues, column labels and their parents."""
        texts = [*self.header_cues, *self.column_labels.values()]
        for column in self.columns:
            texts += [column.label, *column.aliases] + ([column.parent] if column.parent else [])
        return list(dict.fromkeys(texts))

    def row(self, row_id: str) -> RowSpec:
        return next(r for r in self.rows if r.id == row_id)

    def column_ids(self, row: RowSpec) -> list[str]:
        return row.columns or [c.id for c in self.columns]

    def column_label(self, column_id: str) -> str:
        spec = next((c for c in self.columns if c.id == column_id), None)
        return spec.label if spec else self.column_labels.get(column_id, column_id)

    def value_type(self, row: RowSpec, column_id: str | None) -> ValueType:
        return self.column_types.get(column_id or "", row.type)

    def field_id(self, row: RowSpec, column_id: str | None) -> str:
        return f"{self.id}.{row.id}" if column_id is None else f"{self.id}.{row.id}.{column_id}"

    def field_ids(self) -> list[str]:
        return [field_id for field_id, _ in self.typed_fields()]

    def typed_fields(self) -> list[tuple[str, ValueType]]:
        """Every field id of the table in printed order, with its value type."""
        if self.layout == "indicator":
            return [(self.field_id(row, None), row.type) for row in self.rows]
        return [(self.field_id(row, c), self.value_type(row, c)) for row in self.rows for c in self.column_ids(row)]


class RuleSpec(BaseModel):
    """lhs sum == rhs sum; `{x}` in an id is expanded over `for_each`."""

    id: str
    lhs: list[str]
    rhs: list[str]
    for_each: list[str] = Field(default_factory=list)
    description: str = ""


class Template(BaseModel):
    id: str = Field(description="the YAML file's name; config/ discovers templates (docs/new-template-revision.md)")
    title: str
    years: tuple[int, int]
    cues: list[str] = Field(description="header texts that mark this template")
    tables: list[TableSpec]
    rules: list[RuleSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> Template:
        ids = self.field_ids()
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"duplicate field ids in {self.id}: {sorted(dupes)}")
        return self

    def table(self, table_id: str) -> TableSpec | None:
        return next((t for t in self.tables if t.id == table_id), None)

    def field_ids(self) -> list[str]:
        return [i for t in self.tables for i in t.field_ids()]


class FlattenedLimits(BaseModel):
    """Bounds on reading tables flattened into text (extractors/flattened.py, digit_split.py)."""

    max_splits: int = Field(default=500, ge=1, description="candidate splits kept for one printed run")
    max_solutions: int = Field(default=64, ge=2, description="combinations across rows counted before giving up")
    max_steps: int = Field(default=20_000, ge=1, description="search steps for one run, and for one group of rows")
    amount_max_decimals: int = Field(default=4, ge=0, description="decimals an amount in 万元 may print (4: 1 元)")
    min_rows: int = Field(default=3, ge=1, description="template rows found by label before text counts as a table")
    shown_candidates: int = Field(default=5, ge=1, description="candidate splits named in a review reason")
    max_region_rows: int = Field(
        default=200, ge=1, description="printed runs in one table's text beyond which it is no table"
    )
    max_title_occurrences: int = Field(default=10, ge=1, description="last occurrences of a table title tried")


class Limits(BaseModel):
    """Caps on one document, so that none takes more than ~1.5 GB or an unbounded time (issue 11)."""

    docx_xml_bytes: int = Field(default=32 * 1024 * 1024, ge=1, description="uncompressed XML of a DOCX, all parts")
    blocks: int = Field(default=20_000, ge=1, description="text blocks and tables of one document read; the rest not")
    table_rows: int = Field(default=5_000, ge=1, description="rows of one table read; the rest not")
    pdf_pages: int = Field(default=150, ge=1, description="pages of a PDF read; the rest are recorded as not read")
    ocr_pages: int = Field(default=60, ge=1, description="scanned PDF pages put through OCR; the rest not read")


class AlignmentScores(BaseModel):
    """Scores of the monotone alignment of printed rows to template rows (extractors/mapping.py align)."""

    skip_observed: float = Field(default=-0.4, le=0, description="a printed row left unmapped")
    skip_required_row: float = Field(default=-0.05, le=0, description="a required template row the document lacks")
    unlabelled_match: float = Field(default=0.3, ge=0, description="a row whose label was lost, placed by position")
    parent_match: float = Field(
        default=0.5, ge=0, description="a row only its group label names, on the group's first row"
    )
    parent_label_min: float = Field(
        default=0.9, ge=0, le=1, description="leaf to group label similarity for parent_match"
    )
    blank_row_label_min: float = Field(
        default=0.8, ge=0, le=1, description="label similarity that makes a blank row count"
    )


class FieldConfidence(BaseModel):
    """The factors of a mapped field's confidence, label x value x source (extractors/mapping.py)."""

    position_in_doubt: float = Field(default=0.5, ge=0, le=1, description="a row placed by position, order in doubt")
    value_clean: float = Field(default=1.0, ge=0, le=1, description="a value parsed exactly as printed")
    value_normalised: float = Field(default=0.97, ge=0, le=1, description="a value parsed after normalising the cell")
    value_unparsed: float = Field(default=0.3, ge=0, le=1, description="a cell that gives no clean value")
    source_default: float = Field(default=0.9, ge=0, le=1, description="a cell source source_confidence does not name")
    cell_count_mismatch: float = Field(default=0.6, ge=0, le=1, description="表四 printed with another number of cells")


class Thresholds(BaseModel):
    accept: float = Field(ge=0, le=1)
    label_match_min: float = Field(ge=0, le=1)
    label_inferred: float = Field(ge=0, le=1)
    checks_pass_bonus: float = Field(ge=0, le=1)
    narrative_agree_bonus: float = Field(default=0.0, ge=0, le=1)
    source_confidence: dict[str, float]
    table_method_confidence: dict[str, float] = Field(
        default_factory=dict, description="models.TableMethod -> factor on its fields' source confidence (default 1)")
    header_cues_min: int = Field(default=2, ge=1, description="distinct header cues that name a table")
    section_title_min: float = Field(default=0.8, ge=0, le=1, description="a misprinted table title still names it")
    short_label_min: float = Field(default=0.8, ge=0, le=1, description="share of a short label found in order")
    short_label_min_chars: int = Field(default=3, ge=1, description="shorter labels are never read as abbreviations")
    flattened: FlattenedLimits = Field(default_factory=FlattenedLimits)
    limits: Limits = Field(default_factory=Limits)
    alignment: AlignmentScores = Field(default_factory=AlignmentScores)
    field_confidence: FieldConfidence = Field(default_factory=FieldConfidence)
    doubted_cap: float = Field(
        default=0.5, ge=0, le=1, description="confidence cap of a field a rule or sentence contradicts"
    )


class LearnedLabel(BaseModel):
    """A printed row label a reviewer mapped onto a template row: mapping takes it as one more alias.

    The flow reads these from the store and hands them to extraction as data."""

    template: str
    table: str
    row_id: str
    label: str
