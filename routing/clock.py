"""The city's clock. Service functions take ``now`` as an argument; only the
edges of the system (a web request, a job, the CLI) ask this module."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

CITY_TZ = ZoneInfo("Asia/Shanghai")
# Years a date asked for (a filter, a report's month) may lie in: far enough
# either way, and date arithmetic on them (the day after) never overflows.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def now() -> datetime:
    """The city's local time, naive, to the second."""
    return datetime.now(CITY_TZ).replace(tzinfo=None, microsecond=0)
