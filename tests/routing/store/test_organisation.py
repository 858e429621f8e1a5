"""The organisation an administrator keeps: agencies with their kind,
jurisdiction and supervisor, every change in the change log, never deleted."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from routing.store.areas import District, Street
from routing.store.audit import changes
from routing.store.organisation import (
    SUBJECT,
    AgencyFields,
    OrganisationError,
    create_agency,
    edit_agency,
    set_active,
)
from routing.store.people import Agency

NOW = datetime(2026, 12, 3, 9, 0)


@pytest.fixture
def place(session):
    district = District(name="西湖区")
    session.add(district)
    session.flush()
    street = Street(district_id=district.id, name="文新街道")
    session.add(street)
    session.flush()
    return district, street


def test_a_street_office_takes_its_district_from_its_street_and_is_logged(session, place):
    district, street = place
    office = create_agency(session, AgencyFields(name=" 文新街道办事处 ", short_name="文新街道", kind="street_office",
                                                 street_id=street.id), None, NOW)
    assert (office.name, office.district_id, office.street_id, office.active) == ("文新街道办事处", district.id, street.id, True)
    [entry] = changes(session, SUBJECT, office.id)
    assert entry.action == "create" and entry.before is None
    assert entry.after["street"] == "文新街道" and entry.after["district"] == "西湖区" and entry.actor == "系统"


def test_an_edit_keeps_before_and_after_and_an_unchanged_form_writes_nothing(session, place):
    district, _ = place
    bureau = create_agency(session, AgencyFields(name="市住建局", kind="bureau"), None, NOW)
    government = create_agency(session, AgencyFields(name="西湖区政府", kind="district_government",
                                                     district_id=district.id), None, NOW)
    fields = AgencyFields(name="市住房和城乡建设局", short_name="市住建局", kind="bureau", supervisor_id=government.id)
    assert edit_agency(session, bureau, fields, None, NOW)
    assert not edit_agency(session, bureau, fields, None, NOW)
    newest = changes(session, SUBJECT, bureau.id)[0]
    assert newest.before["name"] == "市住建局" and newest.after["name"] == "市住房和城乡建设局"
    assert newest.after["supervisor"] == "西湖区政府"
    assert len(changes(session, SUBJECT, bureau.id)) == 2


@pytest.mark.parametrize(
    "fields",
    [
        AgencyFields(name=""),
        AgencyFields(name="市住建局"),  # taken
        AgencyFields(name="新单位", kind="ministry"),
        AgencyFields(name="新单位", district_id=999),
        AgencyFields(name="新单位", street_id=999),
        AgencyFields(name="新单位", supervisor_id=999),
    ],
)
def test_bad_fields_are_refused_and_change_nothing(session, fields):
    create_agency(session, AgencyFields(name="市住建局"), None, NOW)
    session.commit()
    with pytest.raises(OrganisationError):
        create_agency(session, fields, None, NOW)
    session.rollback()
    assert session.scalars(select(Agency.name)).all() == ["市住建局"]


def test_a_street_outside_the_chosen_district_is_refused(session, place):
    _, street = place
    other = District(name="上城区")
    session.add(other)
    session.flush()
    with pytest.raises(OrganisationError):
        create_agency(session, AgencyFields(name="新单位", district_id=other.id, street_id=street.id), None, NOW)


def test_a_supervisor_may_not_loop_back(session):
    government = create_agency(session, AgencyFields(name="区政府"), None, NOW)
    office = create_agency(session, AgencyFields(name="街道办", supervisor_id=government.id), None, NOW)
    with pytest.raises(OrganisationError):
        edit_agency(session, government, AgencyFields(name="区政府", supervisor_id=office.id), None, NOW)
    with pytest.raises(OrganisationError):
        edit_agency(session, government, AgencyFields(name="区政府", supervisor_id=government.id), None, NOW)


def test_an_agency_is_deactivated_and_activated_never_twice(session):
    agency = create_agency(session, AgencyFields(name="市水务集团", kind="utility"), None, NOW)
    set_active(session, agency, False, None, NOW)
    assert not agency.active
    with pytest.raises(OrganisationError):
        set_active(session, agency, False, None, NOW)
    set_active(session, agency, True, None, NOW)
    assert [c.action for c in changes(session, SUBJECT, agency.id)] == ["activate", "deactivate", "create"]
