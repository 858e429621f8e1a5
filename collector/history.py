"""Importing a city's historical tickets (历史工单导入) from a CSV or XLSX file,
so the agency model starts from the city's own history.

Columns: ``text`` and ``agency`` are required, ``topic``, ``created`` and
``number`` optional (the Chinese headers of a hotline export are understood
too). A file with a bad row or an agency the system does not know imports
nothing, and one run names all of it — every bad row and column, every
unknown agency with its rows — so the file can be fixed and imported again. Importing is
idempotent: a row whose text and agency are already stored is skipped.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifier.dataset import DatasetError, read_rows
from routing.store.people import Agency
from routing.store.tickets import HistoricalTicket

# Column → the headers it may have in a file.
COLUMNS: dict[str, tuple[str, ...]] = {
    "text": ("text", "内容", "诉求内容", "反映内容", "工单内容"),
    "agency": ("agency", "承办单位", "办理单位", "责任单位"),
    "topic": ("topic", "分类", "诉求分类", "问题分类"),
    "created": ("created", "created_at", "date", "受理时间", "日期", "登记时间"),
    "number": ("number", "工单号", "编号", "工单编号"),
}
REQUIRED = ("text", "agency")
LIMITS = {"topic": 80, "number": 64}
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
                "%Y/%m/%d", "%Y年%m月%d日", "%Y.%m.%d")
MAX_ERRORS_SHOWN = 20
CHUNK = 500

# progress(step, done, total): "read", "check", "store".
Progress = Callable[[str, int, int], None]


class HistoryImportError(ValueError):
    """The file is not imported; ``errors`` says why, by row and column."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


@dataclass
class ImportReport:
    read: int = 0  # data rows with content
    added: int = 0
    already_stored: int = 0  # here before, or twice in the file
    unknown: dict[str, list[int]] = field(default_factory=dict)  # agency name → its rows, when skipped


@dataclass(frozen=True)
class HistoryRow:
    row: int  # as a spreadsheet counts it: the header is row 1
    text: str
    agency: str
    topic: str | None
    created: datetime | None
    number: str | None


@dataclass(frozen=True)
class CheckedFile:
    """What checking a file found: its good rows, the errors of its bad ones,
    and every agency it names with its rows (bad rows too), so that one run
    reports everything wrong with the file."""

    rows: list[HistoryRow]
    errors: list[str]
    agencies: dict[str, list[int]]


def clean(value: str | None) -> str:
    """Full-width letters and spaces to half-width, trimmed: how names are compared."""
    return unicodedata.normalize("NFKC", value or "").strip()


def digest(text: str, agency: str) -> str:
    return hashlib.sha256(f"{clean(text)}\x1f{clean(agency)}".encode()).hexdigest()


def parse_created(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern)
        except ValueError:
            continue
    return None


def _columns(header: Iterable[str]) -> dict[str, str]:
    """Our column name → the file's header for it."""
    found: dict[str, str] = {}
    for name in header:
        for column, aliases in COLUMNS.items():
            if clean(name).lower() in aliases and column not in found:
                found[column] = name
    return found


def _check_row(
    number: int, raw: dict[str, str], columns: dict[str, str], errors: list[str], agencies: dict[str, list[int]]
) -> HistoryRow | None:
    values = {column: clean(raw.get(header)) for column, header in columns.items()}
    if not any(values.values()):
        return None  # an empty line: spreadsheets end with them
    if values["agency"]:
        # Also of a bad row: an unknown agency is reported with the row's other errors.
        agencies.setdefault(values["agency"], []).append(number)
    before = len(errors)
    for column in REQUIRED:
        if not values[column]:
            errors.append(f"第 {number} 行 {columns[column]} 列为空")
    for column, limit in LIMITS.items():
        if len(values.get(column, "")) > limit:
            errors.append(f"第 {number} 行 {columns[column]} 列超过 {limit} 个字")
    created = parse_created(values.get("created", ""))
    if values.get("created") and created is None:
        errors.append(f"第 {number} 行 {columns['created']} 列“{values['created']}”不是日期（写作 2024-05-01）")
    if len(errors) > before:
        return None
    return HistoryRow(
        number, values["text"], values["agency"], values.get("topic") or None, created, values.get("number") or None
    )


def read_history(path: str | Path, progress: Progress = lambda *_: None) -> CheckedFile:
    """Every row of the file, checked. Raises HistoryImportError only for the
    file as a whole (unreadable, no data, a required column missing); the
    errors of its rows are in the result, to be reported together with its
    unknown agencies."""
    path = Path(path)
    try:
        raw_rows = list(read_rows(path))
    except DatasetError as exc:
        raise HistoryImportError(str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise HistoryImportError(f"{path.name} 不是 UTF-8 编码：请另存为 UTF-8 的 CSV 或 XLSX") from exc
    except Exception as exc:  # openpyxl's zip and XML errors: the file is not a workbook
        raise HistoryImportError(f"{path.name} 无法读取（{exc.__class__.__name__}）：请确认是 CSV 或 XLSX 文件") from exc
    if not raw_rows:
        raise HistoryImportError(f"{path.name} 没有数据行")
    progress("read", len(raw_rows), len(raw_rows))
    columns = _columns(k for k in raw_rows[0] if k)
    missing = [column for column in REQUIRED if column not in columns]
    if missing:
        raise HistoryImportError(
            f"{path.name} 缺少列 {', '.join(missing)}（必需 text 和 agency，可选 topic、created、number）；"
            f"文件的列为 {sorted(k for k in raw_rows[0] if k)}"
        )
    checked = CheckedFile(rows=[], errors=[], agencies={})
    for i, raw in enumerate(raw_rows):
        row = _check_row(i + 2, raw, columns, checked.errors, checked.agencies)
        if row is not None:
            checked.rows.append(row)
        progress("check", i + 1, len(raw_rows))
    if not checked.rows and not checked.errors:
        raise HistoryImportError(f"{path.name} 没有数据行")
    return checked


def refuse(name: str, errors: list[str], unknown: dict[str, list[int]]) -> HistoryImportError:
    """One error for everything wrong with the file: its bad rows and columns
    (the first MAX_ERRORS_SHOWN of them) and its unknown agencies, then what to do."""
    shown = errors[:MAX_ERRORS_SHOWN]
    problems = []
    if errors:
        more = f"，另有 {len(errors) - len(shown)} 处未列出" if len(errors) > len(shown) else ""
        problems.append(f"有 {len(errors)} 处错误{more}")
    if unknown:
        problems.append(f"{len(unknown)} 个承办单位不在系统中")
    lines = shown + (unknown_help(unknown) if unknown else [])
    return HistoryImportError(
        f"{name} {'，'.join(problems)}，未导入任何数据：请按所列各处改正文件后重新导入", lines
    )


def _agencies(session: Session) -> dict[str, Agency]:
    return {clean(agency.name): agency for agency in session.scalars(select(Agency))}


def _stored(session: Session, digests: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(digests), CHUNK):
        chunk = digests[start : start + CHUNK]
        found.update(session.scalars(select(HistoricalTicket.digest).where(HistoricalTicket.digest.in_(chunk))))
    return found


def import_history(
    session: Session,
    path: str | Path,
    now: datetime,
    *,
    skip_unknown: bool = False,
    progress: Progress = lambda *_: None,
) -> ImportReport:
    """Store the file's tickets; commits once, so a failed import stores nothing.

    Bad rows, and agency names that are not in the agency table, stop the
    import, reported together in one HistoryImportError; with
    ``skip_unknown`` the rows of unknown agencies are left out (the report's
    ``unknown`` names them and their rows) and the rest imported.
    """
    checked = read_history(path, progress)
    agencies = _agencies(session)
    unknown = {name: rows for name, rows in checked.agencies.items() if name not in agencies}
    if checked.errors or (unknown and not skip_unknown):
        raise refuse(Path(path).name, checked.errors, {} if skip_unknown else unknown)
    report = ImportReport(read=len(checked.rows), unknown=unknown)
    known = [row for row in checked.rows if row.agency in agencies]
    digests = [digest(row.text, row.agency) for row in known]
    seen = _stored(session, digests)
    source = Path(path).name[:200]
    for i, (row, key) in enumerate(zip(known, digests, strict=True)):
        if key in seen:
            report.already_stored += 1
        else:
            seen.add(key)
            session.add(
                HistoricalTicket(
                    digest=key, text=row.text, agency=agencies[row.agency], topic=row.topic, number=row.number,
                    created_at=row.created, source=source, imported_at=now,
                )
            )
            report.added += 1
        progress("store", i + 1, len(known))
    session.commit()
    return report


def unknown_help(unknown: dict[str, list[int]]) -> list[str]:
    """One line per unknown agency with where it occurs, then what to do."""
    lines = []
    for name, rows in sorted(unknown.items()):
        where = "、".join(str(r) for r in rows[:5]) + ("…" if len(rows) > 5 else "")
        lines.append(f"“{name}”：{len(rows)} 行（第 {where} 行）")
    lines.append(
        "处理办法：把文件中的名称改成系统中承办单位的名称（如 市住建局）后重新导入；"
        "确是新单位的，先在系统中添加该承办单位；或加 --skip-unknown 只导入已知单位的行。"
    )
    return lines
