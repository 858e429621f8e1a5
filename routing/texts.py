"""Texts people read (提示文字): written in Chinese, translated where shown.

The domain core knows nothing of Flask or of languages. It marks a text for
the catalogue with ``N_`` (the extraction picks up that keyword) and raises
errors that keep their template and values apart (``DomainError``), so the
web face translates the template and the values marked as ``Label`` at
display time (``admin.i18n.error_text``). ``str(error)`` stays the Chinese
text, for logs, the CLI and the JSON API.
"""

from __future__ import annotations

from typing import Any


def N_(text: str) -> str:
    """Marks a text for the catalogue without translating it here."""
    return text


class Label(str):
    """A value that is itself a marked text (a status, a step's name):
    translated along with the template it goes into."""


class DomainError(ValueError):
    """An error for a person: a marked template and the values it takes."""

    def __init__(self, template: str, **values: Any) -> None:
        self.template, self.values = template, values
        super().__init__(template % values if values else template)
