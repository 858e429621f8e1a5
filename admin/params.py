"""Query parameters of the staff pages, read one way everywhere.

A parameter is typed by people and by links, and forged by anyone: an id or a
page is ASCII digits within what the database can hold (Python's ``int``
also reads ``１２`` and ``١٢``, and refuses ``²`` although ``isdigit`` admits
it), and a date lies in the years the system can count deadlines for.
"""

from __future__ import annotations

from datetime import date

from flask import abort
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter
from wtforms.validators import ValidationError

from routing.clock import FIRST_YEAR, LAST_YEAR
from routing.store.db import MAX_INTEGER


def whole_number(raw: str, high: int = MAX_INTEGER) -> int:
    """ASCII digits from 0 to ``high``; else ValueError (so it serves as
    ``request.args.get(name, type=whole_number)``, which then gives None)."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)) or int(text) > high:
        raise ValueError(f"not a whole number up to {high}: {raw!r}")
    return int(text)


def id_arg(args, name: str) -> int | None:
    """An id in the query, None if absent; a 400 naming the parameter if it is no id."""
    raw = args.get(name, "")
    if not raw.strip():
        return None
    try:
        return whole_number(raw)
    except ValueError:
        abort(400, description=gettext("参数 %(name)s 应为编号。", name=name))


def plausible_year(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def in_range(form, field) -> None:
    """A WTForms validator for a date filter: within the years the system counts."""
    if field.data is not None and not plausible_year(field.data.year):
        raise ValidationError(_l("日期应在 %(first)d 年至 %(last)d 年之间。", first=FIRST_YEAR, last=LAST_YEAR))


def plausible_date(value: date) -> bool:
    return plausible_year(value.year)


class RowId(IntegerConverter):
    """``<int:…>`` in every route: up to the largest INTEGER, so a path with a
    larger number is a 404 like any id that names no row, not a database error."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_INTEGER,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
