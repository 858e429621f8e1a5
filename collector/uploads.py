"""What every uploaded file (a deputy's voice note, a resident's photo)
must be before its contents are looked at: there, and not too large."""

from __future__ import annotations

from routing.texts import DomainError

MB = 1048576


def check_size(data: bytes, max_bytes: int, error: type[DomainError], *, empty: str, too_large: str) -> None:
    """Raise ``error`` with the marked text ``empty`` for no data, or with
    ``too_large`` (taking ``%(size)s`` and ``%(limit)s``, in MB) beyond ``max_bytes``."""
    if not data:
        raise error(empty)
    if len(data) > max_bytes:
        raise error(too_large, size=f"{len(data) / MB:.1f}", limit=f"{max_bytes / MB:.0f}")
