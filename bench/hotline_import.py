"""Importing a hotline's export as tickets (``flask --app admin import tickets``):
rows per second, and whether memory stays flat as the file grows.

    python bench/hotline_import.py [--sizes 10000,100000] [--format csv|xlsx]

Each size runs in a process of its own on a fresh database with the demo
city (SQLite, or the PostgreSQL database DATABASE_URL names): an export of
that many rows is written from the shared real messages (../shared/data,
cycled, each row its own 工单号; every tenth names an agency), then imported
through ``collector.hotline.import_export``, the command's own path. Reported:
the seconds to check and to import, rows per second, and the process's peak
resident memory (ru_maxrss) — the same peak for ten times the rows is what
streaming buys.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "gov-messages-7class" / "data.csv"
HEADER = ["工单号", "诉求内容", "诉求人", "联系电话", "诉求地址", "受理时间", "诉求类型", "承办单位"]
AGENCIES = ["市城管局", "拱墅区人民政府", "市住建局", "不在系统中的单位"]


def texts(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return [row["text"] for row in csv.DictReader(f) if len(row["text"].strip()) >= 5]


def export_rows(messages: list[str], n: int):
    for i in range(n):
        yield [
            f"RX{i:09d}", messages[i % len(messages)][:4000], "市民", f"138{i % 100000000:08d}", "", "2026-11-20 09:30",
            "投诉" if i % 3 else "咨询", AGENCIES[(i // 10) % len(AGENCIES)] if i % 10 == 0 else "",
        ]


def write_export(path: Path, messages: list[str], n: int) -> None:
    if path.suffix == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(HEADER)
        for row in export_rows(messages, n):
            sheet.append(row)
        book.save(path)
    else:
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(HEADER)
            writer.writerows(export_rows(messages, n))


def one(size: int, fmt: str, data: Path) -> dict:
    from _database import fresh_database

    from admin import create_app
    from admin.demo import load_demo
    from classifier import ModelStore
    from collector.hotline import check_export, import_export
    from routing.clock import now as city_now
    from routing.store.migrate import upgrade

    folder = Path(tempfile.mkdtemp(prefix="hotline-import-"))
    export = folder / f"export.{fmt}"
    write_export(export, texts(data), size)
    url = fresh_database(folder)
    upgrade(url)
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "MODEL_DIR": str(folder / "models"),
                      "JOBS_IN_PROCESS": False})
    services = app.extensions["tingjian"]
    with services.db.Session() as session:
        load_demo(session, ModelStore(folder / "models"), threshold=services.threshold)
    classifier = services.classifier.current()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    rows = check_export(export)
    checked = time.perf_counter()
    with services.db.Session() as session:
        figures = import_export(session, export, classifier, city_now, threshold=services.threshold,
                                agency_threshold=services.agency_threshold, checked_rows=rows)
    done = time.perf_counter()
    return {
        "rows": size, "format": fmt, "database": url.split(":", 1)[0], "file_mb": round(export.stat().st_size / 2**20, 1),
        "check_seconds": round(checked - started, 1), "import_seconds": round(done - checked, 1),
        "rows_per_second": round(size / (done - started), 1),
        "peak_rss_mb_before_import": round(before / 1024), "peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "figures": figures.as_dict() | {"unknown_agency": sum(figures.unknown_agency.values())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--format", choices=("csv", "xlsx"), default="xlsx")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.data.exists():
        print(json.dumps({"skipped": f"no data at {args.data}"}, ensure_ascii=False))
        return
    if args.one:
        print(json.dumps(one(args.one, args.format, args.data), ensure_ascii=False))
        return
    for size in (int(s) for s in args.sizes.split(",")):
        # A process per size: its peak memory is its own.
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(size), "--format", args.format, "--data", str(args.data)],
            check=True, capture_output=True, text=True,
        ).stdout
        print(out.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
