"""Rows to files a spreadsheet opens (导出): CSV and XLSX.

Text comes from residents: a cell that starts like a formula is kept as text,
so opening an export never runs what someone typed into a complaint. A control
character someone typed (or pasted) is dropped from the XLSX cell: the format
cannot hold it, and one such ticket would otherwise break the export for
everyone who includes it.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from flask import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from routing.clock import CITY_TZ
from routing.reports.contact_export import ExportStamp

# Werkzeug appends "; charset=utf-8" to text types itself: name the type alone.
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What spreadsheets read as the start of a formula (CSV has no types to say otherwise).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# CSV has no date type: a time is written as the pages show it.
CSV_TIME = "%Y-%m-%d %H:%M"
XLSX_TIME = "yyyy-mm-dd hh:mm"
# Column widths in characters (a Chinese character counts two): a long
# complaint would otherwise make one column wider than the screen.
NARROWEST, WIDEST = 6, 50
# A stamped CSV starts with a comment line: one cell in a spreadsheet, and
# skipped by programs that read comments (pandas ``comment="#"``).
CSV_COMMENT = "# "


def city_time(value: datetime) -> datetime:
    """A time as the cell holds it: city time, naive (spreadsheets know no time zones)."""
    return value.astimezone(CITY_TZ).replace(tzinfo=None) if value.tzinfo else value


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return f"{city_time(value):{CSV_TIME}}"
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: Iterable[list[Any]], stamp: ExportStamp | None = None) -> bytes:
    """UTF-8 with a byte-order mark: Excel on Chinese Windows then reads it as
    UTF-8, not GBK. A ``stamp`` (who exported it, when) is the first line."""
    out = io.StringIO()
    writer = csv.writer(out)
    if stamp is not None:
        writer.writerow([CSV_COMMENT + stamp.line()])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def xlsx_cell(value: Any) -> Any:
    """A value openpyxl can store: text without the control characters XML
    forbids, a time as city time without a zone."""
    if isinstance(value, datetime):
        return city_time(value)
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def text_width(value: Any) -> int:
    """How many character widths ``value`` takes in a cell: wide (CJK) characters count two."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return len(XLSX_TIME)
    text = str(value)[:WIDEST]  # beyond the widest column, the rest cannot matter
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def column_widths(rows: Sequence[Sequence[Any]]) -> list[float]:
    """Each column as wide as its widest cell, a little room besides, within bounds."""
    widths: list[int] = []
    for row in rows:
        widths += [0] * (len(row) - len(widths))
        for index, value in enumerate(row):
            widths[index] = max(widths[index], text_width(value))
    return [min(max(width + 2, NARROWEST), WIDEST) for width in widths]


def _table_cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = XLSX_TIME
        return cell
    if isinstance(value, str) and value.startswith("="):
        # openpyxl stores a string that starts with "=" as a formula; keep it text.
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        return cell
    return value


def add_table(
    workbook: Workbook,
    title: str,
    rows: Iterable[Sequence[Any]],
    *,
    stamp: ExportStamp | None = None,
    frozen_columns: int = 0,
) -> None:
    """A sheet of ``workbook`` (made ``write_only``: ten thousand rows in a
    fraction of the time) with the table: a header row (below the ``stamp``'s
    line, if any) that stays in view and filters, times as dates, columns as
    wide as their content (capped)."""
    table = [[xlsx_cell(v) for v in row] for row in rows]  # the widths need every row before the first is written
    sheet = workbook.create_sheet(title)
    widths = column_widths(table)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    header_row = 2 if stamp is not None else 1
    if widths:
        sheet.auto_filter.ref = f"A{header_row}:{get_column_letter(len(widths))}{header_row + len(table) - 1}"
    sheet.freeze_panes = f"{get_column_letter(frozen_columns + 1)}{header_row + 1}"
    if stamp is not None:
        sheet.append([stamp.line()])
    for row in table:
        sheet.append([_table_cell(sheet, v) for v in row])


def stamp_workbook(workbook: Workbook, stamp: ExportStamp, title: str) -> None:
    """The document's properties say who exported it and when (文件属性)."""
    workbook.properties.creator = stamp.exporter
    workbook.properties.lastModifiedBy = stamp.exporter
    workbook.properties.created = workbook.properties.modified = stamp.at
    workbook.properties.title = title
    workbook.properties.description = stamp.line()


def workbook_bytes(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def to_xlsx(rows: Iterable[Sequence[Any]], title: str = "工单", stamp: ExportStamp | None = None) -> bytes:
    workbook = Workbook(write_only=True)
    add_table(workbook, title, rows, stamp=stamp)
    if stamp is not None:
        stamp_workbook(workbook, stamp, title)
    return workbook_bytes(workbook)


def attachment(body: bytes, mimetype: str, filename: str) -> Response:
    """A file to download, named in Chinese if need be (RFC 6266 ``filename*``)."""
    response = Response(body, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response
