"""Report pages whose tables are flattened into running text, generated from a spec whose truth is known.

Printed the way crawled 平潭 pages print them: a table's title, its header words run together,
each row's label (a group label only on its group's first row) followed by the row's digits
with nothing between them, 表四 as one run after its header; blank cells print nothing.
"""
from __future__ import annotations

from gongkai.models import TableSpec, Template

NUMERALS = "一二三四五六七八九十"
# Numbers in the narrative that state no tabulated total (a sentence that did would be checked against the table)
NARRATIVE = (
    "本报告根据《中华人民共和国政府信息公开条例》（国务院令第711号）编制。一、总体情况 全年主动公开政府信息1040条，"
    "接待群众现场咨询218人次，发布政策解读96篇，占71.11%。"
)
CLOSING = "五、存在的主要问题及改进情况 2025年，将重点做好改进。六、其他需要报告的事项 无。"


def flattened_page(spec: dict, template: Template) -> str:
    """The spec's report as one line of page text with its tables flattened."""
    printed = spec["fields"]
    body = [NARRATIVE]
    for k, table in enumerate(template.tables):
        body.append(f"{NUMERALS[k + 1]}、{table.title}")
        body.append(_table_text(table, printed))
    title = f"{spec['agency']}{spec['year']}年度政府信息公开工作年度报告"
    return "\n".join([f"标题: {title}", "==================== 正文 ====================", "".join(body) + CLOSING])


def _table_text(table: TableSpec, printed: dict) -> str:
    if table.layout == "single_row":
        header = "行政复议行政诉讼" + "".join(c.label for c in table.columns) + "未经复议直接起诉复议后起诉"
        return header + "".join(_cell(printed.get(i)) for i in table.field_ids())
    out = []
    if table.columns:
        out.append("申请人情况" + "".join(c.label for c in table.columns))
    groups_seen: set[str] = set()
    section = None
    for row in table.rows:
        ids = [table.field_id(row, c) for c in table.column_ids(row)]
        if not any(i in printed for i in ids):
            continue
        if row.section and row.section != section:
            section = row.section
            out.append(section + "信息内容" + "".join(table.column_label(c) for c in table.column_ids(row)))
        for parent in row.parents:
            if parent not in groups_seen:
                groups_seen.add(parent)
                out.append(parent)
        out.append(row.label + "".join(_cell(printed.get(i)) for i in ids))
    return "".join(out)


def _cell(value: int | float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return format(value, "f").rstrip("0").rstrip(".")
    return str(value)
