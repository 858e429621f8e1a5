"""Labelled texts from files: the shipped corpus, CSV and XLSX."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CORPUS_DIR = Path(__file__).parent / "corpus"


class DatasetError(ValueError):
    """The file cannot be read as labelled texts; the message says why."""


@dataclass
class Dataset:
    texts: list[str]
    labels: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def extend(self, other: Dataset) -> None:
        self.texts.extend(other.texts)
        self.labels.extend(other.labels)


def _rows_csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        yield from csv.DictReader(f)


def _rows_xlsx(path: Path) -> Iterator[dict[str, str]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = workbook.active.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, [])]
        for row in rows:
            yield {h: ("" if v is None else str(v)) for h, v in zip(header, row, strict=False)}
    finally:
        workbook.close()


def read_rows(path: str | Path) -> Iterator[dict[str, str]]:
    """The rows of a CSV (UTF-8) or XLSX file as dicts by header; every value a string."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"文件不存在 / no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _rows_xlsx(path)
    if suffix in {".csv", ".txt"}:
        return _rows_csv(path)
    raise DatasetError(f"只支持 CSV 或 XLSX / only CSV or XLSX files are read, not {suffix or 'this file'}")


def read_dataset(path: str | Path, *, text_column: str = "text", label_column: str = "label") -> Dataset:
    """Read ``text`` and ``label`` columns from a CSV (UTF-8) or XLSX file.

    Rows with an empty text or label are skipped: a hotline export has them,
    and they teach nothing.
    """
    path = Path(path)
    rows = read_rows(path)
    data = Dataset([], [])
    try:
        for row in rows:
            if text_column not in row or label_column not in row:
                raise DatasetError(
                    f"{path.name} 缺少列 / needs the columns {text_column!r} and {label_column!r}; "
                    f"it has {sorted(k for k in row if k)}"
                )
            text, label = (row[text_column] or "").strip(), (row[label_column] or "").strip()
            if text and label:
                data.texts.append(text)
                data.labels.append(label)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path.name} is not UTF-8 text: save it as UTF-8 CSV or XLSX") from exc
    if not data.texts:
        raise DatasetError(f"{path.name} has no rows with both a text and a label")
    return data


def shipped_corpus() -> Dataset:
    """The project's own corpus of resident messages (classifier/corpus/*.csv)."""
    data = Dataset([], [])
    for path in sorted(CORPUS_DIR.glob("*.csv")):
        data.extend(read_dataset(path))
    if not data.texts:
        raise DatasetError("the shipped corpus is empty")
    return data
