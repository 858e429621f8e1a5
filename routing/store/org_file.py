"""Reading the organisation's spreadsheet (组织架构导入文件): an XLSX workbook
with the sheets 街道, 单位, 账号 and 联络站, or a CSV file holding one of them
(its file name says which: ``单位.csv``, ``accounts.csv`` …). Headers are
Chinese, English accepted.

Reading only: every cell as trimmed text, each header matched to its column,
and every problem of the file's shape named at once — an unknown sheet or
column, a missing required column, a cell that is a formula. Whether the
values make sense is ``routing.store.org_import``'s question.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

# Sheet → the names it may have (the first is how messages name it).
SHEETS: dict[str, tuple[str, ...]] = {
    "streets": ("街道", "streets", "区划", "districts"),
    "agencies": ("单位", "agencies", "承办单位"),
    "accounts": ("账号", "accounts", "工作人员"),
    "stations": ("联络站", "stations", "代表联络站"),
}
# Sheets of a workbook that are for people, not for the import.
NOTES = ("说明", "readme", "notes")
# Sheet → column → its headers (the first is how messages name it).
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "streets": {"district": ("区县", "district"), "street": ("街道", "street", "乡镇")},
    "agencies": {
        "name": ("名称", "name", "单位名称"),
        "short_name": ("简称", "short name", "short_name"),
        "kind": ("类型", "kind", "单位类型"),
        "district": ("区县", "district", "管辖区县"),
        "street": ("街道", "street", "管辖街道"),
        "supervisor": ("上级督办单位", "supervisor", "上级单位"),
    },
    "accounts": {
        "username": ("用户名", "login", "username"),
        "display_name": ("姓名", "display name", "display_name", "name"),
        "role": ("角色", "role"),
        "agency": ("所属单位", "agency", "所属承办单位", "承办单位"),
        "mobile": ("手机号", "mobile", "手机"),
        "im_user_id": ("企业微信/钉钉ID", "im user id", "im_user_id", "wecom/dingtalk id", "企业微信ID", "钉钉ID"),
        "active": ("启用", "active"),
    },
    "stations": {
        "name": ("名称", "name", "联络站名称"),
        "district": ("区县", "district"),
        "street": ("街道", "street"),
        "address": ("地址", "address"),
        "deputies": ("代表", "deputies", "人大代表"),
        "active": ("启用", "active"),
    },
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "streets": ("district",),
    "agencies": ("name",),
    "accounts": ("username", "display_name", "role"),
    "stations": ("name", "district"),
}
# A cell starting so is a formula to a spreadsheet that opens an export of it later (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@")


class OrgImportError(ValueError):
    """The file cannot be imported as it is; ``errors`` names every place and what to do."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


@dataclass(frozen=True)
class Row:
    sheet: str  # the kind: "streets", "agencies", "accounts", "stations"
    number: int  # as a spreadsheet counts it: the header is row 1
    values: dict[str, str]
    # Columns whose cell looked like a formula: already reported, not checked again.
    formulas: set[str] = field(default_factory=set)

    def where(self, column: str | None = None) -> str:
        """How a message names this row (and column): 联络站 表第 3 行 区县 列."""
        place = f"{sheet_name(self.sheet)} 表第 {self.number} 行"
        return f"{place} {COLUMNS[self.sheet][column][0]} 列" if column else place


@dataclass
class OrgFile:
    rows: dict[str, list[Row]] = field(default_factory=lambda: {kind: [] for kind in SHEETS})
    errors: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def sheet_name(kind: str) -> str:
    return SHEETS[kind][0]


def clean(value: object) -> str:
    """A cell as text: full-width letters and spaces to half-width, trimmed; a
    whole number without its ".0", a date as 2024-05-01."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        value = value.isoformat()[:10]
    return unicodedata.normalize("NFKC", str(value)).strip()


def kind_of(name: str) -> str | None:
    folded = clean(name).casefold()
    return next((kind for kind, names in SHEETS.items() if folded in _folded(names)), None)


def _folded(names: tuple[str, ...]) -> set[str]:
    return {name.casefold() for name in names}


def read_org_file(path: str | Path, name: str | None = None) -> OrgFile:
    """Every sheet of an XLSX file, or the one sheet of a CSV file (``name``:
    the file's name as uploaded, which tells a CSV's sheet; default its path's)."""
    path = Path(path)
    name = name or path.name
    suffix = Path(name).suffix.lower()
    found = OrgFile()
    try:
        if suffix == ".xlsx":
            _read_workbook(path, found)
        elif suffix == ".csv":
            kind = kind_of(Path(name).stem)
            if kind is None:
                raise OrgImportError(
                    f"{name}：CSV 文件名须写明是哪张表：{'、'.join(f'{names[0]}.csv' for names in SHEETS.values())}"
                    f"（或 {'、'.join(f'{names[1]}.csv' for names in SHEETS.values())}）"
                )
            with path.open(encoding="utf-8-sig", newline="") as handle:
                _read_sheet(kind, csv.reader(handle), found)
        else:
            raise OrgImportError(f"{name}：只能导入 XLSX 或 CSV 文件")
    except UnicodeDecodeError as exc:
        raise OrgImportError(f"{name} 不是 UTF-8 编码：请另存为 UTF-8 的 CSV 或 XLSX") from exc
    except OrgImportError:
        raise
    except Exception as exc:  # openpyxl's zip and XML errors: the file is not a workbook
        raise OrgImportError(f"{name} 无法读取（{exc.__class__.__name__}）：请确认是 XLSX 或 CSV 文件") from exc
    if not found.errors and not len(found):
        raise OrgImportError(f"{name} 没有数据行")
    return found


def _read_workbook(path: Path, found: OrgFile) -> None:
    from openpyxl import load_workbook  # only when a workbook is read

    # Not data_only: a formula stays a formula, to be refused rather than imported as its last value.
    workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        for sheet in workbook.worksheets:
            kind = kind_of(sheet.title)
            if kind is None:
                if clean(sheet.title).casefold() not in NOTES:
                    found.errors.append(
                        f"不认识的工作表“{sheet.title}”：请改名为 {'、'.join(n[0] for n in SHEETS.values())} 之一"
                        f"（说明可放在名为“说明”的表中）"
                    )
                continue
            _read_sheet(kind, sheet.iter_rows(values_only=True), found)
    finally:
        workbook.close()


def _read_sheet(kind: str, lines: Iterable[Iterable[object]], found: OrgFile) -> None:
    lines = iter(lines)
    header = [clean(cell) for cell in next(lines, ())]
    columns: dict[int, str] = {}
    where = f"{sheet_name(kind)} 表第 1 行"
    for index, title in enumerate(header):
        if not title:
            continue
        column = next((c for c, names in COLUMNS[kind].items() if title.casefold() in _folded(names)), None)
        if column is None:
            known = "、".join(names[0] for names in COLUMNS[kind].values())
            found.errors.append(f"{where}：不认识的列“{title}”，可用的列为 {known}")
        elif column in columns.values():
            found.errors.append(f"{where}：“{title}”列重复了，请只留一列")
        else:
            columns[index] = column
    missing = [COLUMNS[kind][c][0] for c in REQUIRED[kind] if c not in columns.values()]
    if missing:
        found.errors.append(f"{where}：缺少必需的列 {'、'.join(missing)}")
        return
    for number, line in enumerate(lines, start=2):
        cells = list(line)
        values = {column: clean(cells[i]) if i < len(cells) else "" for i, column in columns.items()}
        if not any(values.values()):
            continue  # an empty line: spreadsheets end with them
        row = Row(kind, number, values)
        for column, value in values.items():
            if value.startswith(FORMULA_STARTS):
                found.errors.append(f"{row.where(column)}：“{value[:20]}”像公式，请填写值本身（不要以 = + - @ 开头）")
                row.formulas.add(column)
        found.rows[kind].append(row)
