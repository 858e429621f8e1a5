"""The masks (去标识化展示) and who sees a resident's contact data."""

import re
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.store.access_log import AccessEntry, purge_access_log, record_access, retention_days
from routing.store.people import Agency, Role, User
from routing.store.privacy import (
    can_see_contact,
    confidential_by_rule,
    contact_view,
    mask_address,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_text,
    may_reveal,
)
from routing.store.tickets import Kind, Ticket

mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
names = st.text(alphabet="李王张欧阳司马小明娜华先生女士", min_size=1, max_size=6)
id_numbers = st.from_regex(r"[1-9][0-9]{16}[0-9X]", fullmatch=True)
addresses = st.text(alphabet="朝阳区建国路街道镇村号楼室0123456789ABC", max_size=30)


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("13812345678", "138****5678"),
        ("+86 138-1234-5678", "138****5678"),
        ("010-6512345", "010****2345"),
        ("12345", "****"),
    ],
)
def test_a_phone_keeps_its_first_three_and_last_four_digits(phone, shown):
    assert mask_phone(phone) == shown


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("李小明", "李**"),
        ("李明", "李**"),
        ("欧阳娜娜", "欧阳**"),
        ("李女士", "李女士"),
        ("王先生", "王先生"),
        ("Alice", "A**"),
    ],
)
def test_a_name_keeps_the_surname_and_an_honorific(name, shown):
    assert mask_name(name) == shown


def test_an_id_number_keeps_its_last_four_characters():
    assert mask_id_number("11010119900101123X") == "**************123X"


@pytest.mark.parametrize(
    ("address", "shown"),
    [("朝阳区建国路88号3号楼", "朝阳区建国路***"), ("海淀区中关村街道", "海淀区中关村街道"), ("88号楼", "***")],
)
def test_an_address_keeps_district_and_street_and_hides_the_number(address, shown):
    assert mask_address(address) == shown


@settings(deadline=None)  # a busy machine is no counterexample
@given(mobiles)
def test_a_masked_mobile_shows_seven_of_its_digits_and_masking_again_changes_nothing(phone):
    shown = mask_phone(phone)
    assert shown == phone[:3] + "****" + phone[-4:]
    assert mask_phone(shown) == shown


@settings(deadline=None)  # a busy machine is no counterexample
@given(names)
def test_a_masked_name_shows_no_more_than_the_surname_and_is_idempotent(name):
    shown = mask_name(name)
    kept = shown.removesuffix("**")
    assert name.startswith(kept) and len(kept) <= 4
    assert mask_name(shown) == shown


@settings(deadline=None)  # a busy machine is no counterexample
@given(id_numbers)
def test_a_masked_id_number_hides_all_but_four_and_is_idempotent(number):
    shown = mask_id_number(number)
    assert shown.count("*") == len(number) - 4 and shown.endswith(number[-4:])
    assert mask_id_number(shown) == shown


@settings(deadline=None)  # a busy machine is no counterexample
@given(addresses)
def test_a_masked_address_shows_no_digit_and_only_a_prefix_and_is_idempotent(address):
    shown = mask_address(address)
    assert not re.search(r"[0-9]", shown)
    assert address.startswith(shown.removesuffix("***"))
    assert mask_address(shown) == shown


@settings(deadline=None)  # a busy machine is no counterexample
@given(mobiles, st.text(alphabet="请回电我的手机号是，。", max_size=10))
def test_a_number_typed_into_free_text_is_masked(phone, words):
    assert phone not in mask_text(words + phone + words)


def test_a_complaint_about_an_official_is_confidential_by_rule():
    assert confidential_by_rule(Kind.COMPLAINT, "我要举报街道办某工作人员收受好处")
    assert confidential_by_rule(None, "检举某局长")
    assert not confidential_by_rule(Kind.COMPLAINT, "小区门口路灯坏了")
    assert not confidential_by_rule(Kind.CONSULTATION, "检举材料怎么写")


def _people():
    agency, other = Agency(id=1, name="区住建局"), Agency(id=2, name="区城管局")
    roles = {
        "admin": User(id=1, role=Role.ADMIN),
        "dispatcher": User(id=2, role=Role.DISPATCHER),
        "agency": User(id=3, role=Role.AGENCY, agency_id=1),
        "other_agency": User(id=4, role=Role.AGENCY, agency_id=2),
        "deputy": User(id=5, role=Role.DEPUTY),
    }
    return Ticket(id=9, agency_id=agency.id, agency=agency, assisting=[], confidential=False), other, roles


def test_the_centre_sees_contact_data_the_agency_sees_it_masked_and_may_reveal():
    ticket, _, people = _people()
    assert can_see_contact(people["admin"], ticket) and can_see_contact(people["dispatcher"], ticket)
    assert not can_see_contact(people["dispatcher"], ticket, dispatcher_sees=False)
    assert not can_see_contact(people["agency"], ticket) and not can_see_contact(None, ticket)
    assert may_reveal(people["agency"], ticket) and not may_reveal(people["other_agency"], ticket)


def test_nobody_but_the_centre_sees_a_confidential_ticket():
    ticket, _, people = _people()
    ticket.confidential = True
    assert can_see_contact(people["admin"], ticket) and can_see_contact(people["dispatcher"], ticket)
    assert not can_see_contact(people["deputy"], ticket) and not may_reveal(people["agency"], ticket)


def test_contact_view_masks_unless_visible():
    ticket = Ticket(contact_name="李小明", contact_phone="13812345678")
    assert contact_view(ticket, False) == {"name": "李**", "phone": "138****5678", "masked": True}
    assert contact_view(ticket, True)["phone"] == "13812345678"


def test_the_access_log_keeps_at_least_six_months_and_the_purge_removes_older_entries(session):
    now = datetime(2026, 12, 1, 9, 0)
    for age in (10, 200, 400):
        record_access(session, None, "view_contact", at=now - timedelta(days=age), address="10.0.0.1")
    session.commit()
    with pytest.raises(ValueError, match="at least 180"):
        retention_days(30)
    assert purge_access_log(session, now, 365) == 1
    session.commit()
    assert sorted((now - e.at).days for e in session.query(AccessEntry)) == [10, 200]


def test_an_unknown_access_action_is_refused(session):
    with pytest.raises(ValueError, match="unknown access-log action"):
        record_access(session, None, "peek", at=datetime(2026, 12, 1))


def test_on_postgresql_the_access_log_refuses_update_and_delete_outside_the_purge(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    from sqlalchemy import delete, update
    from sqlalchemy.exc import ProgrammingError

    record_access(session, None, "view_contact", at=datetime(2026, 12, 1))
    session.commit()
    for statement in (update(AccessEntry).values(role="admin"), delete(AccessEntry)):
        with pytest.raises(ProgrammingError, match="append-only"):
            session.execute(statement)
        session.rollback()
    assert session.query(AccessEntry).count() == 1


def test_the_access_log_days_may_be_given_in_years_and_never_below_six_months():
    assert retention_days("3y") == 3 * 365 and retention_days("400") == 400
    with pytest.raises(ValueError, match="at least 180"):
        retention_days("90")
    with pytest.raises(ValueError, match="days \\(365\\) or years \\(3y\\)"):
        retention_days("a year")
