"""A city set up from an empty database in the browser, no demo data anywhere:
the first administrator from ``flask --app admin setup``, then on the console
two agencies, a district, a liaison station, a dispatcher and an agency
account, one routing rule; a resident's submission is routed by that rule and
the agency answers it."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from routing.store.areas import District, Station
from routing.store.people import Agency, User
from routing.store.tickets import Status, Ticket

from ..admin.test_flow import COMPLAINT

ADMIN_PASSWORD = "Qiantang-river-2026"
AGENCY_PASSWORD = "Baidi-causeway-2026"


def new_form(page, url: str, fields: dict[str, str], selects: dict[str, dict] | None = None,
             button: str = "#new button.primary"):
    page.goto(url)
    for name, value in fields.items():
        page.fill(f"#new [name={name}], form [name={name}]", value)
    for name, choice in (selects or {}).items():
        page.select_option(f"[name={name}]", **choice)
    page.click(button)
    page.wait_for_load_state()


def test_an_administrator_sets_up_a_small_city_and_its_first_ticket_is_answered(open_page, runner, session, monkeypatch):
    assert session.scalar(select(func.count()).select_from(Agency)) == 0  # nothing but the schema
    monkeypatch.setenv("TINGJIAN_ADMIN_PASSWORD", ADMIN_PASSWORD)
    result = runner.invoke(args=["setup", "--username", "chief"])
    assert result.exit_code == 0, result.output

    admin = open_page()
    admin.login("chief", ADMIN_PASSWORD)
    page, base = admin.page, admin.base
    new_form(page, base + "/admin/agencies", {"name": "市住房和城乡建设局", "short_name": "市住建局"})
    new_form(page, base + "/admin/agencies", {"name": "市交通运输局"})
    new_form(page, base + "/admin/places/", {"name": "西湖区", "aliases": "西湖"})
    new_form(page, base + "/admin/stations", {"name": "文新街道人大代表联络站", "address": "文三路 100 号"},
             {"district": {"label": "西湖区"}})
    new_form(page, base + "/admin/accounts", {"username": "duty", "display_name": "值班员"}, {"role": {"value": "dispatcher"}})
    new_form(page, base + "/admin/accounts", {"username": "housing", "display_name": "住建局经办人"},
             {"role": {"value": "agency"}, "agency": {"label": "市住房和城乡建设局"}})
    temporary = page.locator("p.once code").inner_text().strip()
    page.goto(base + "/desk/rules/new")
    page.select_option("[name=topic]", value="城乡建设")
    page.select_option("[name=agency]", label="市住房和城乡建设局")
    page.click("button[name=action][value=save]")
    page.wait_for_load_state()
    admin.shot("city-setup-rule")
    assert admin.errors == []

    resident = open_page(phone=True)
    resident.go("/")
    resident.page.select_option("[name=station]", label="西湖区 · 文新街道人大代表联络站")
    resident.page.fill("[name=text]", COMPLAINT)
    resident.page.click("form.card button.primary")
    resident.page.wait_for_load_state()
    number = resident.page.locator("#ticket-number").inner_text().strip()
    session.expire_all()
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    assert ticket.status is Status.ASSIGNED and ticket.agency.name == "市住房和城乡建设局"
    assert ticket.station.name == "文新街道人大代表联络站" and ticket.district.name == "西湖区"

    agency = open_page()
    agency.login("housing", temporary)
    assert "/account/password" in agency.page.url  # a temporary password is changed first
    agency.page.fill("[name=current]", temporary)
    agency.page.fill("[name=new]", AGENCY_PASSWORD)
    agency.page.fill("[name=again]", AGENCY_PASSWORD)
    agency.page.click("form.card button.primary")
    agency.page.wait_for_load_state()
    agency.go(f"/agency/tickets/{number}")
    agency.page.click(f"form[action$='/agency/tickets/{number}/accept'] button")
    agency.page.wait_for_load_state()
    agency.page.fill("[name=answer]", "已约谈物业公司，停车费恢复原价，业主车辆可正常进出。")
    agency.page.click(f"form[action$='/agency/tickets/{number}/answer'] button.primary")
    agency.page.wait_for_load_state()
    agency.shot("city-setup-answered")
    assert agency.errors == []

    session.expire_all()
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    assert ticket.status is Status.ANSWERED and "停车费恢复原价" in ticket.answer
    # The city is what the administrator made, and nothing else.
    assert sorted(session.scalars(select(Agency.name))) == ["市交通运输局", "市住房和城乡建设局"]
    assert list(session.scalars(select(District.name))) == ["西湖区"]
    assert session.scalar(select(func.count()).select_from(Station)) == 1
    assert sorted(session.scalars(select(User.username))) == ["chief", "duty", "housing"]
    assert re.fullmatch(r"\d+", number)
