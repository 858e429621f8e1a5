"""What both parts of bench/matters_scale.py use: the thresholds the scores
are read at, and the machine's load average."""

from __future__ import annotations

import os

THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
