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
from collections.abc import Iterable
from typing import Any

from flask import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

# Werkzeug appends "; charset=utf-8" to text types itself: name the type alone.
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What spreadsheets read as the start of a formula (CSV has no types to say otherwise).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: Iterable[list[Any]]) -> bytes:
    """UTF-8 with a byte-order mark: Excel on Chinese Windows then reads it as UTF-8, not GBK."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def xlsx_cell(value: Any) -> Any:
    """A value openpyxl can store: text without the control characters XML forbids."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def to_xlsx(rows: Iterable[list[Any]], title: str = "工单") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append([xlsx_cell(v) for v in row])
    for line in sheet.iter_rows():
        for cell in line:
            # openpyxl stores a string that starts with "=" as a formula; keep it text.
            if cell.data_type == "f":
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def attachment(body: bytes, mimetype: str, filename: str) -> Response:
    """A file to download, named in Chinese if need be (RFC 6266 ``filename*``)."""
    response = Response(body, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response
