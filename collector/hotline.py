"""A 12345 hotline's export as tickets (热线工单导入): each row becomes a
ticket of channel ``hotline``, read, placed, indexed for the duplicate
search and routed like a message from any other channel — or given to the
agency the hotline already assigned (承办单位), when Tingjian knows it.

The file is read twice, streaming, so memory stays flat however long it
is: first every row is checked and every bad row and column is named at
once (nothing is imported when anything is wrong); then the rows are
imported a chunk per transaction. The hotline's own number (工单号) is the
message's idempotency key: a row imported before — in an interrupted run,
or in a later export of the same tickets — is skipped and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifier import Classifier
from classifier.dataset import DatasetError, read_rows
from classifier.similar import SIMILAR, fingerprints, vectors
from routing.dispatch.agency_choice import DEFAULT_AGENCY_THRESHOLD
from routing.dispatch.matters import similar_open
from routing.dispatch.reference import read_once
from routing.flow.inbound import Inbound
from routing.flow.tickets import open_ticket
from routing.store.areas import District
from routing.store.people import Agency
from routing.store.tickets import Kind, Message, Status, Ticket

from .history import clean, parse_created
from .intake import DEFAULT_THRESHOLD, reading
from .submissions import SubmissionError, checked_contact, checked_location, checked_text

CHANNEL = "hotline"
# Column → the headers a hotline's export may give it.
COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("工单号", "工单编号", "编号"),
    "text": ("诉求内容", "反映内容", "工单内容", "来电内容"),
    "name": ("诉求人", "来电人", "联系人"),
    "phone": ("联系电话", "来电号码", "电话"),
    "address": ("诉求地址", "事发地址", "地址"),
    "received": ("受理时间", "来电时间", "登记时间"),
    "kind": ("诉求类型", "工单类型"),
    "agency": ("承办单位", "办理单位", "责任单位"),
}
REQUIRED = ("number", "text")
_COMPARED = {"number", "phone", "received", "kind", "agency"}
MAX_NUMBER = 128  # the message's external_id
# 诉求类型 as hotlines write it → the ticket's kind. Any other value (表扬, 其他…)
# leaves the kind to the classifier, as for any channel.
KINDS = {
    "投诉": Kind.COMPLAINT, "举报": Kind.COMPLAINT, "投诉举报": Kind.COMPLAINT,
    "建议": Kind.SUGGESTION, "意见建议": Kind.SUGGESTION,
    "咨询": Kind.CONSULTATION, "求助": Kind.HELP,
}
MAX_ERRORS_KEPT = 200
MAX_ERRORS_SHOWN = 20
CHUNK = 500
# How far back a row's matter is looked for among open tickets (the desk's window).
DUPLICATE_WINDOW = timedelta(days=365)
# The import looks for a row's duplicates by its heaviest terms only (the
# rarest by the reference IDF, which a retelling of the same matter shares):
# a common term's postings grow with every row imported, and searching them
# for every row made a large export slower with each row.
SEARCH_TERMS = 8
ASSIGN_REASON = "热线已派单"

# progress(step, done, total): "check", "import"; total is 0 while unknown.
Progress = Callable[[str, int, int], None]


class HotlineImportError(ValueError):
    """The file is not imported; ``errors`` names its bad rows and columns."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


@dataclass(frozen=True)
class HotlineRow:
    row: int  # as a spreadsheet counts it: the header is row 1
    number: str
    inbound: Inbound
    kind: Kind | None
    agency: str


@dataclass
class Figures:
    """What an import did: 导入 imported, of them 自动派单 routed and 待分拣
    triage, 可能重复 duplicates (a matter already open: listed for the
    dispatcher to merge), 已导入过 already (skipped), and rows naming an
    agency Tingjian does not know (routed by the classifier instead)."""

    rows: int = 0
    imported: int = 0
    routed: int = 0
    triage: int = 0
    duplicates: int = 0
    already: int = 0
    unknown_agency: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "rows": self.rows, "imported": self.imported, "routed": self.routed, "triage": self.triage,
            "duplicates": self.duplicates, "already": self.already, "unknown_agency": dict(self.unknown_agency),
        }

    def line(self) -> str:
        unknown = sum(self.unknown_agency.values())
        return (
            f"读取 {self.rows} 行：导入 {self.imported} 张工单（自动派单 {self.routed}，待分拣 {self.triage}，"
            f"可能重复 {self.duplicates}），已导入过 {self.already}"
            + (f"；{unknown} 行的承办单位不在系统中，已按分类派单（{'、'.join(sorted(self.unknown_agency))}）"
               if unknown else "")
            + "。"
        )


def _rows(path: Path) -> Iterator[dict[str, str]]:
    try:
        yield from read_rows(path)
    except DatasetError as exc:
        raise HotlineImportError(str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise HotlineImportError(f"{path.name} 不是 UTF-8 编码：请另存为 UTF-8 的 CSV 或 XLSX") from exc
    except HotlineImportError:
        raise
    except Exception as exc:  # openpyxl's zip and XML errors: the file is not a workbook
        raise HotlineImportError(f"{path.name} 无法读取（{exc.__class__.__name__}）：请确认是 CSV 或 XLSX 文件") from exc


def _columns(path: Path, header: list[str]) -> dict[str, str]:
    """Our column name → the file's header for it; the required ones or an error."""
    found: dict[str, str] = {}
    for name in header:
        for column, aliases in COLUMNS.items():
            if clean(name) in aliases and column not in found:
                found[column] = name
    missing = [COLUMNS[column][0] for column in REQUIRED if column not in found]
    if missing:
        raise HotlineImportError(
            f"{path.name} 缺少列 {'、'.join(missing)}（必需 工单号、诉求内容；可选 诉求人、联系电话、诉求地址、"
            f"受理时间、诉求类型、承办单位）；文件的列为 {'、'.join(h for h in header if h) or '（无）'}"
        )
    return found


def _field(errors: list[str], where: str, check: Callable[[], object]) -> object | None:
    try:
        return check()
    except SubmissionError as exc:
        errors.append(f"{where}：{exc.message}")
        return None


def check_row(number: int, raw: dict[str, str], columns: dict[str, str]) -> tuple[HotlineRow | None, list[str]]:
    """One row, every column checked on its own by the rules of the form
    and the API: the row, or the errors naming each bad column."""
    # Keys and names compared as the agency list is (full-width to half-width);
    # what the resident said kept as written.
    values = {
        column: clean(raw.get(header)) if column in _COMPARED else (raw.get(header) or "").strip()
        for column, header in columns.items()
    }
    errors: list[str] = []
    at = {column: f"第 {number} 行 {header} 列" for column, header in columns.items()}
    for column in REQUIRED:
        if not values[column]:
            errors.append(f"{at[column]}为空")
    if len(values["number"]) > MAX_NUMBER:
        errors.append(f"{at['number']}超过 {MAX_NUMBER} 个字符")
    text = _field(errors, at["text"], lambda: checked_text(values["text"])) if values["text"] else None
    name = _field(errors, at.get("name", ""), lambda: checked_contact({"name": values.get("name") or None}))
    phone = _field(errors, at.get("phone", ""), lambda: checked_contact({"phone": values.get("phone") or None}))
    location = _field(errors, at.get("address", ""), lambda: checked_location(values.get("address", "")))
    received = parse_created(values.get("received", ""))
    if values.get("received") and received is None:
        errors.append(f"{at['received']}“{values['received'][:40]}”不是时间（写作 2024-05-01 09:30）")
    if errors:
        return None, errors
    payload = {
        "hotline_number": values["number"],
        "hotline_received_at": received.isoformat(timespec="minutes") if received else None,
        "hotline_kind": values.get("kind") or None,
        "hotline_agency": values.get("agency") or None,
    }
    inbound = Inbound(
        channel=CHANNEL, text=text, external_id=values["number"],
        contact=replace(name, phone=phone.phone), location=location,
        payload={key: value for key, value in payload.items() if value is not None},
    )
    return HotlineRow(number, values["number"], inbound, KINDS.get(values.get("kind", "")), values.get("agency", "")), []


def read_export(path: str | Path) -> Iterator[HotlineRow | list[str]]:
    """The file's rows in order, streaming: each a checked row, or the list
    of its errors. Raises HotlineImportError for the file as a whole."""
    path = Path(path)
    rows = _rows(path)
    first = next(rows, None)
    if first is None:
        raise HotlineImportError(f"{path.name} 没有数据行")
    columns = _columns(path, [h for h in first if h])
    for i, raw in enumerate(_chain(first, rows)):
        if not any(clean(raw.get(header)) for header in columns.values()):
            continue  # an empty line: spreadsheets end with them
        row, errors = check_row(i + 2, raw, columns)
        yield row if row is not None else errors


def _chain(first: dict[str, str], rest: Iterator[dict[str, str]]) -> Iterator[dict[str, str]]:
    yield first
    yield from rest


def check_export(path: str | Path, progress: Progress = lambda *_: None) -> int:
    """Check the whole file: the number of its data rows, or
    HotlineImportError naming every bad row and column (the first
    MAX_ERRORS_SHOWN of them) and every 工单号 given twice."""
    path = Path(path)
    errors: list[str] = []
    count = more = 0
    seen: dict[str, int] = {}
    for item in read_export(path):
        count += 1
        found = item if isinstance(item, list) else []
        if isinstance(item, HotlineRow):
            if item.number in seen:
                found = [f"第 {item.row} 行 工单号“{item.number[:40]}”与第 {seen[item.number]} 行重复"]
            else:
                seen[item.number] = item.row
        kept = found[: max(MAX_ERRORS_KEPT - len(errors), 0)]
        errors.extend(kept)
        more += len(found) - len(kept)
        if count % CHUNK == 0:
            progress("check", count, 0)
    progress("check", count, count)
    if not count:
        raise HotlineImportError(f"{path.name} 没有数据行")
    if errors:
        total = len(errors) + more
        shown = errors[:MAX_ERRORS_SHOWN]
        rest = f"，另有 {total - len(shown)} 处未列出" if total > len(shown) else ""
        raise HotlineImportError(
            f"{path.name} 有 {total} 处错误{rest}，未导入任何工单：请按所列各处改正文件后重新导入", shown
        )
    return count


def _agencies(session: Session) -> dict[str, Agency]:
    return {clean(agency.name): agency for agency in session.scalars(select(Agency).where(Agency.active))}


def _imported(session: Session, numbers: list[str]) -> set[str]:
    return set(
        session.scalars(
            select(Message.external_id).where(Message.channel == CHANNEL, Message.external_id.in_(numbers))
        )
    )


def _district_ids(session: Session) -> dict[str, int]:
    return dict(session.execute(select(District.name, District.id)).all())


def _duplicates(
    session: Session, texts: list[str], prints: list, districts: list[int | None], now: datetime
) -> list[bool]:
    """Whether each text raises a matter already open, or one an earlier row
    of the chunk raised: the desk's test for a possible duplicate (the
    index's candidates, then the whole texts), its texts compared at once.

    Bounded as the desk bounds it (``possible_duplicates``): a row placed in
    a district is compared only with open tickets of that district and those
    whose district is not known — so each row's search reads one district's
    postings, not the whole city's, however many rows came before — and by
    the row's heaviest terms only (``SEARCH_TERMS``)."""
    since = now - DUPLICATE_WINDOW
    found = [
        [ticket_id for ticket_id, _ in similar_open(session, fp[:SEARCH_TERMS], since, district_id=d, limit=20)]
        for fp, d in zip(prints, districts, strict=True)
    ]
    ids = sorted({ticket_id for candidates in found for ticket_id in candidates})
    stored = dict(session.execute(select(Ticket.id, Ticket.text).where(Ticket.id.in_(ids))).all()) if ids else {}
    ids = [ticket_id for ticket_id in ids if ticket_id in stored]
    matrix = vectors([stored[ticket_id] for ticket_id in ids] + texts)
    own = matrix[len(ids):]
    within = (own @ own.T).toarray()
    position = {ticket_id: k for k, ticket_id in enumerate(ids)}
    duplicates = []
    for row, candidates in enumerate(found):
        mine = districts[row]
        earlier = [
            within[row, k] for k in range(row) if mine is None or districts[k] is None or districts[k] == mine
        ]
        rows = [position[ticket_id] for ticket_id in candidates if ticket_id in position]
        best = (matrix[rows] @ own[row].T).toarray().max() if rows else 0.0
        duplicates.append(bool(max([best, *earlier]) >= SIMILAR))
    return duplicates


def import_chunk(
    session: Session, rows: list[HotlineRow], classifier: Classifier, now: datetime, figures: Figures, *,
    threshold: float = DEFAULT_THRESHOLD, agency_threshold: float = DEFAULT_AGENCY_THRESHOLD,
    agencies: dict[str, Agency] | None = None,
) -> None:
    """Open the tickets of rows not imported before; the caller commits."""
    agencies = agencies if agencies is not None else _agencies(session)
    done = _imported(session, [row.number for row in rows])
    new = [row for row in rows if row.number not in done]
    figures.already += len(rows) - len(new)
    texts = [row.inbound.text for row in new]
    predictions = classifier.predict_many(texts)
    prints = fingerprints(texts)
    readings = [
        reading(classifier, prediction, row.inbound.location.text, threshold, agency_threshold)
        for row, prediction in zip(new, predictions, strict=True)
    ]
    district_ids = _district_ids(session)
    places = [district_ids.get(labels.district) if labels.district else None for labels in readings]
    duplicates = _duplicates(session, texts, prints, places, now) if new else []
    figures.duplicates += sum(duplicates)
    # The places, rules and policies read once for the chunk, as the classify job reads them for a batch.
    with read_once(session):
        for row, labels, fingerprint in zip(new, readings, prints, strict=True):
            labels = replace(labels, matter=fingerprint, kind=row.kind or labels.kind)
            agency = agencies.get(clean(row.agency)) if row.agency else None
            if row.agency and agency is None:
                figures.unknown_agency[row.agency] = figures.unknown_agency.get(row.agency, 0) + 1
            ticket = open_ticket(session, row.inbound, labels, now, assign_to=agency, assign_reason=ASSIGN_REASON)
            figures.imported += 1
            if ticket.status is Status.TRIAGE:
                figures.triage += 1
            elif ticket.status is Status.ASSIGNED:
                figures.routed += 1


def import_export(
    session: Session, path: str | Path, classifier: Classifier, now: Callable[[], datetime], *,
    threshold: float = DEFAULT_THRESHOLD, agency_threshold: float = DEFAULT_AGENCY_THRESHOLD,
    progress: Progress = lambda *_: None, after_chunk: Callable[[Figures], None] = lambda _: None,
    checked_rows: int | None = None,
) -> Figures:
    """Check the file, then import it a chunk per transaction (committed);
    ``after_chunk`` sees the figures so far before each commit. Safe to run
    again after an interruption: rows imported before are skipped."""
    total = checked_rows if checked_rows is not None else check_export(path, progress)
    figures = Figures(rows=total)
    agencies = _agencies(session)
    chunk: list[HotlineRow] = []
    done = 0

    def flush() -> None:
        nonlocal done
        import_chunk(session, chunk, classifier, now(), figures, threshold=threshold,
                     agency_threshold=agency_threshold, agencies=agencies)
        after_chunk(figures)
        session.commit()
        done += len(chunk)
        chunk.clear()
        progress("import", done, total)

    for row in read_export(path):
        if not isinstance(row, HotlineRow):  # the file changed since it was checked
            raise HotlineImportError(f"{Path(path).name} 在检查后被改动，请重新导入")
        chunk.append(row)
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()
    return figures
