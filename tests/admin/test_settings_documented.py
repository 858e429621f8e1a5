"""Every setting the app reads from the environment is in the operators'
guide, so an operator never has to read the code to find one."""

from __future__ import annotations

import re
from pathlib import Path

import admin.settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_environment_setting_is_in_the_operators_guide():
    code = Path(admin.settings.__file__).read_text("utf-8")
    read = set(re.findall(r'env\("([A-Z0-9_]+)"', code))
    assert {"DATABASE_URL", "IDEMPOTENCY_HOURS", "RATELIMIT_API"} <= read
    guide = (ROOT / "docs" / "operators.md").read_text("utf-8")
    assert {name for name in read if f"`{name}`" not in guide} == set()
