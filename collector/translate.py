"""Errors from the domain in the reader's language, for the pages of the
channels (the status page) and of admin alike."""

from __future__ import annotations

from flask_babel import gettext

from routing.texts import DomainError, Label


def error_text(error: BaseException) -> str:
    """An error from the domain in the reader's language: its template and the
    values that are labels translated, names and numbers as they are."""
    if not isinstance(error, DomainError):
        return str(error)
    values = {k: gettext(v) if isinstance(v, Label) else v for k, v in error.values.items()}
    return gettext(error.template, **values)
