"""The city's clock. Service functions take ``now`` as an argument; only the
edges of the system (a web request, a job, the CLI) ask this module."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

CITY_TZ = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """The city's local time, naive, to the second."""
    return datetime.now(CITY_TZ).replace(tzinfo=None, microsecond=0)
