"""The gazetteer an administrator keeps: districts and streets with their
aliases, one name for one place, every change logged and versioned."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from routing.store import gazetteer
from routing.store.areas import District, PlaceAlias
from routing.store.audit import changes
from routing.store.gazetteer import DISTRICT, STREET, GazetteerError, save_district, save_street, split_aliases
from routing.store.people import Agency

NOW = datetime(2026, 12, 3, 9, 0)


@pytest.fixture
def xihu(session):
    district = save_district(session, "西湖区", ["西湖"], now=NOW)
    save_street(session, district, "文新街道", ["文新"], now=NOW)
    return district


def test_a_district_is_created_with_its_aliases_and_logged(session):
    agency = Agency(name="西湖区政府")
    session.add(agency)
    session.flush()
    district = save_district(session, " 西湖区 ", split_aliases("西湖、西湖区 西湖"), agency.id, now=NOW)
    assert district.name == "西湖区" and [a.alias for a in district.aliases] == ["西湖"]
    assert district.fallback_agency_id == agency.id
    [entry] = changes(session, DISTRICT, district.id)
    assert (entry.action, entry.before, entry.actor) == ("create", None, "系统")
    assert entry.after == {"name": "西湖区", "aliases": ["西湖"], "fallback_agency": "西湖区政府"}


def test_a_street_is_created_under_its_district_with_its_aliases(session, xihu):
    [street] = xihu.streets
    assert (street.name, [a.alias for a in street.aliases]) == ("文新街道", ["文新"])
    [entry] = changes(session, STREET, street.id)
    assert entry.after == {"district": "西湖区", "name": "文新街道", "aliases": ["文新"]}


def test_an_edit_replaces_the_aliases_keeps_before_and_after_and_an_unchanged_save_writes_nothing(session, xihu):
    save_district(session, "西湖区", ["西湖", "西溪"], district=xihu, now=NOW)
    save_district(session, "西湖区", ["西湖", "西溪"], district=xihu, now=NOW)
    newest, _ = changes(session, DISTRICT, xihu.id)
    assert newest.before["aliases"] == ["西湖"] and newest.after["aliases"] == ["西湖", "西溪"]
    save_district(session, "西湖区", ["西溪"], district=xihu, now=NOW)
    assert session.scalars(select(PlaceAlias.alias).where(PlaceAlias.street_id.is_(None))).all() == ["西溪"]


@pytest.mark.parametrize("name", ["", "   ", "区" * 33])
def test_an_empty_or_overlong_name_is_refused(session, name):
    with pytest.raises(GazetteerError, match="请填写区县名称"):
        save_district(session, name, now=NOW)
    assert session.scalars(select(District)).all() == []


def test_a_district_name_is_taken_once(session, xihu):
    with pytest.raises(GazetteerError, match="已有同名的区县：西湖区"):
        save_district(session, "西湖区", now=NOW)


def test_a_street_name_is_taken_once_within_its_district(session, xihu):
    with pytest.raises(GazetteerError, match="西湖区已有同名的街道：文新街道"):
        save_street(session, xihu, "文新街道", now=NOW)


def test_an_alias_that_already_names_another_place_is_refused_and_changes_nothing(session, xihu):
    shangcheng = save_district(session, "上城区", ["上城"], now=NOW)
    with pytest.raises(GazetteerError, match="“西湖”已是西湖区的别名"):
        save_district(session, "上城区", ["上城", "西湖"], district=shangcheng, now=NOW)
    with pytest.raises(GazetteerError, match="“文新”已是西湖区文新街道的别名"):
        save_street(session, shangcheng, "湖滨街道", ["文新"], now=NOW)
    with pytest.raises(GazetteerError, match="“西湖区”已是区县西湖区的名称"):
        save_street(session, shangcheng, "湖滨街道", ["西湖区"], now=NOW)
    with pytest.raises(GazetteerError, match="“文新街道”已是西湖区文新街道的名称"):
        save_district(session, "上城区", ["文新街道"], district=shangcheng, now=NOW)
    with pytest.raises(GazetteerError, match="“上城”已是上城区的别名"):
        save_district(session, "上城", now=NOW)


def test_a_street_stays_in_its_district(session, xihu):
    shangcheng = save_district(session, "上城区", now=NOW)
    with pytest.raises(GazetteerError, match="街道不能改到其他区县"):
        save_street(session, shangcheng, "文新街道", street=xihu.streets[0], now=NOW)


def test_an_unknown_fallback_agency_is_refused(session):
    with pytest.raises(GazetteerError, match="没有这个兜底单位"):
        save_district(session, "西湖区", fallback_agency_id=999, now=NOW)


def test_every_change_moves_the_version_every_process_compares(session):
    assert gazetteer.version(session) is None
    district = save_district(session, "西湖区", now=NOW)
    first = gazetteer.version(session)
    save_district(session, "西湖区", district=district, now=NOW)  # nothing changed
    assert gazetteer.version(session) == first
    save_street(session, district, "文新街道", now=NOW)
    assert gazetteer.version(session) not in (None, first)


def test_the_database_gazetteer_reads_in_the_shape_of_the_shipped_file(session, xihu):
    assert gazetteer.gazetteer_data(session) == {
        "districts": [
            {"name": "西湖区", "aliases": ["西湖"], "streets": ["文新街道"], "landmarks": {"文新": "文新街道"}}
        ]
    }
