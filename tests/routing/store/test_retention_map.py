"""The map of residents' personal data (routing.store.retention) is
complete: every text, JSON or binary column of every table is either
classified personal, with what retention does to it, or declared not
personal, with why — so a column added later is placed before the suite passes."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import JSON, Enum, LargeBinary, String, Text

from routing.store.db import Base
from routing.store.retention import (
    DATA_CLASSES,
    NOT_PERSONAL,
    PERSONAL,
    Schedule,
    retention_years,
    scrub_json,
    scrub_text,
    years_before,
)


def _columns(kinds=(String, Text, JSON, LargeBinary)) -> set[str]:
    return {
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, kinds) and not isinstance(column.type, Enum)
    }


def test_every_text_json_and_binary_column_is_classified():
    unplaced = _columns() - PERSONAL.keys() - NOT_PERSONAL.keys()
    assert not unplaced, f"place {sorted(unplaced)} in routing.store.retention: PERSONAL or NOT_PERSONAL"


def test_no_column_is_both_and_every_named_column_exists():
    assert not PERSONAL.keys() & NOT_PERSONAL.keys()
    every = {f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables for c in t.columns}
    assert (PERSONAL.keys() | NOT_PERSONAL.keys()) - every == set()
    assert {rule.data_class for rule in PERSONAL.values()} == set(DATA_CLASSES)


def test_free_text_keeps_its_words_and_loses_its_numbers():
    text = "路灯坏了，电话13912345678，身份证33010619900101123X，门牌88号"
    scrubbed = scrub_text(text)
    assert scrubbed == "路灯坏了，电话139****5678，身份证**************123X，门牌88号"
    assert scrub_text(scrubbed) == scrubbed


def test_a_json_value_loses_its_personal_keys_and_keeps_what_figures_read():
    detail = {"rating": "satisfied", "redo": 1, "raw": {"FromUserName": "oABC"}, "recipient": "139****5678",
              "answer": "已电话告知13912345678"}
    assert scrub_json(detail) == {"rating": "satisfied", "redo": 1, "answer": "已电话告知139****5678"}


def test_years_are_counted_back_to_the_same_day():
    assert years_before(datetime(2027, 6, 1, 3), 3) == datetime(2024, 6, 1, 3)
    assert years_before(datetime(2028, 2, 29), 1) == datetime(2027, 2, 28)
    assert Schedule().cutoff("access_log", datetime(2027, 6, 1)) == datetime(2026, 12, 3)


@pytest.mark.parametrize("value", ["0", "31", "three", "-1", "2.5"])
def test_a_retention_setting_is_whole_years_from_one_to_thirty(value):
    with pytest.raises(ValueError, match="RETENTION_CONTACT_YEARS must be a whole number of years from 1 to 30"):
        retention_years("RETENTION_CONTACT_YEARS", value, 3)


def test_an_unset_retention_setting_takes_its_default():
    assert retention_years("RETENTION_MEDIA_YEARS", "", 1) == 1
    assert retention_years("RETENTION_MEDIA_YEARS", " 5 ", 1) == 5
