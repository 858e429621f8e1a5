"""A hotline export uploaded by a dispatcher, imported by a job (导入任务).

The upload is checked at once — a bad file is refused with every bad row
and column named, and nothing is stored — and a good one is stored with its
run (``routing.store.imports.TicketImport``) and a job in one transaction.
The job imports it a chunk per transaction, keeping the figures so far on
the run; a worker that dies mid-file leaves the job to run again, which
skips the rows already imported (the hotline's number is the key).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from classifier import Classifier
from routing.clock import now as city_now
from routing.store.imports import DONE, FAILED, RUNNING, TicketImport
from routing.store.jobs import Handler, Permanent, enqueue
from routing.store.people import User

from .hotline import Figures, HotlineImportError, check_export, import_export

IMPORT = "hotline.import"
SUFFIXES = (".xlsx", ".csv")


def _file(content: bytes, file_name: str) -> Path:
    """The upload as a file of its own kind, for the streaming readers; the
    caller removes it. Transient: the content itself lives in the database."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUFFIXES:
        raise HotlineImportError(f"{file_name} 不是 CSV 或 XLSX 文件：请上传热线系统导出的 .xlsx 或 .csv")
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as handle:
        handle.write(content)
    return Path(handle.name)


def start_import(session: Session, file_name: str, content: bytes, by: User | None, now: datetime) -> TicketImport:
    """Check an uploaded export and queue its import; commits. Raises
    HotlineImportError, storing nothing, when the file is not right."""
    name = Path(file_name).name[:200] or "export.xlsx"
    path = _file(content, name)
    try:
        rows = check_export(path)
    finally:
        path.unlink(missing_ok=True)
    run = TicketImport(file_name=name, rows=rows, content=content, created_by=by, created_at=now, figures={})
    session.add(run)
    session.flush()
    enqueue(session, IMPORT, {"import_id": run.id}, now, key=f"hotline-import:{run.id}", max_attempts=5)
    session.commit()
    return run


def make_import_job(
    classifier: Callable[[], Classifier], threshold: float, agency_threshold: float
) -> Handler:
    """The job that imports a stored export; safe to run again."""

    def run_import(session: Session, payload: dict[str, Any], now: datetime) -> None:
        run = session.get(TicketImport, payload["import_id"])
        if run is None or run.status == DONE:
            return
        run.status = RUNNING
        session.commit()
        path = _file(run.content, run.file_name)

        def keep(figures: Figures) -> None:
            # Committed with each chunk: the page shows how far it got.
            run.figures = figures.as_dict()

        try:
            figures = import_export(
                session, path, classifier(), city_now, threshold=threshold, agency_threshold=agency_threshold,
                after_chunk=keep, checked_rows=run.rows,
            )
        except HotlineImportError as exc:
            session.rollback()
            run.status, run.error, run.finished_at = FAILED, str(exc)[:500], city_now()
            session.commit()
            raise Permanent(str(exc)) from exc
        finally:
            path.unlink(missing_ok=True)
        run.figures, run.status, run.finished_at = figures.as_dict(), DONE, city_now()

    return run_import
