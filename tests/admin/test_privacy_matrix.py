"""Who sees a resident's contact data on which route (role × route), and that
every response showing it unmasked is in the access log."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from routing.store.access_log import AccessEntry
from routing.store.people import Agency
from routing.store.tickets import Status, Ticket, TicketEvent

from ..conftest import post_form
from ..helpers import agency_login

NAME, PHONE = "李小明", "13912345678"
MASKED_NAME, MASKED_PHONE = "李**", "139****5678"

# Every route that returns a resident's contact data. A route added under
# /tickets, /agency, /desk, /reports or /api that shows the planted number
# unmasked and is missing here fails ``test_no_other_route_shows_the_number``.
CONTACT_ROUTES = {
    "/desk/tickets/<number>": {
        "admin": "unmasked",
        "dispatcher": "unmasked",
        "agency": "forbidden",
        "other_agency": "forbidden",
        "deputy": "forbidden",
        "anonymous": "login",
    },
    "/agency/tickets/<number>": {
        "admin": "forbidden",
        "dispatcher": "forbidden",
        "agency": "masked",
        "other_agency": "not_found",
        "deputy": "forbidden",
        "anonymous": "login",
    },
}


@pytest.fixture
def planted(demo):
    """A ticket of 区住建局 (or the first agency with tickets) with a planted name and number."""
    ticket = demo.scalar(
        select(Ticket).where(Ticket.agency_id.is_not(None), Ticket.status == Status.ASSIGNED).order_by(Ticket.id)
    )
    ticket.contact_name, ticket.contact_phone = NAME, PHONE
    demo.commit()
    other = demo.scalar(select(Agency).where(Agency.id != ticket.agency_id).order_by(Agency.id))
    logins = {
        "admin": "admin",
        "dispatcher": "dispatcher",
        "deputy": "deputy",
        "agency": agency_login(demo, ticket.agency),
        "other_agency": agency_login(demo, other),
    }
    demo.commit()
    return ticket, logins


def _entries(session, ticket, action="view_contact") -> int:
    session.expire_all()
    return session.scalar(
        select(func.count())
        .select_from(AccessEntry)
        .where(AccessEntry.ticket_id == ticket.id, AccessEntry.action == action)
    )


def _fetch(client, auth, logins, role, url):
    if role != "anonymous":
        auth.login(logins[role])
    return client.get(url)


@pytest.mark.parametrize("route", sorted(CONTACT_ROUTES))
@pytest.mark.parametrize("role", ["admin", "dispatcher", "agency", "other_agency", "deputy", "anonymous"])
def test_each_role_sees_contact_data_as_the_rule_says_and_every_look_is_logged(
    client, auth, demo, planted, route, role
):
    ticket, logins = planted
    before = _entries(demo, ticket)
    response = _fetch(client, auth, logins, role, route.replace("<number>", ticket.number))
    page = response.get_data(as_text=True)
    expected = CONTACT_ROUTES[route][role]
    if expected == "unmasked":
        assert response.status_code == 200 and PHONE in page and NAME in page
        assert _entries(demo, ticket) == before + 1
        return
    assert PHONE not in page and NAME not in page
    assert _entries(demo, ticket) == before
    if expected == "masked":
        assert response.status_code == 200 and MASKED_PHONE in page and MASKED_NAME in page
    else:
        assert response.status_code == {"forbidden": 403, "not_found": 404, "login": 302}[expected]


def test_the_agency_reveals_with_a_reason_on_the_timeline_and_in_the_log(client, auth, demo, planted):
    ticket, logins = planted
    auth.login(logins["agency"])
    url = f"/agency/tickets/{ticket.number}"
    refused = post_form(client, f"{url}/reveal", {"reason": " "}, page=url, follow_redirects=True)
    assert PHONE not in refused.get_data(as_text=True) and _entries(demo, ticket, "reveal") == 0
    shown = post_form(client, f"{url}/reveal", {"reason": "回电核实"}, page=url, follow_redirects=True)
    assert PHONE in shown.get_data(as_text=True) and "查看联系方式" in shown.get_data(as_text=True)
    assert _entries(demo, ticket, "reveal") == 1 and _entries(demo, ticket) == 1
    event = demo.scalar(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == "reveal_contact")
    )
    assert event.reason == "回电核实"


def test_a_confidential_ticket_is_never_revealed_to_the_agency(client, auth, demo, planted):
    ticket, logins = planted
    ticket.confidential = True
    demo.commit()
    auth.login(logins["agency"])
    url = f"/agency/tickets/{ticket.number}"
    page = client.get(url).get_data(as_text=True)
    assert "该件群众要求保密，请联系分拣中心转达" in page and f"{url}/reveal" not in page
    answer = client.post(
        f"{url}/reveal", data={"reason": "回电核实", "csrf_token": _token(page)}, follow_redirects=True
    )
    assert PHONE not in answer.get_data(as_text=True)
    assert "该件群众要求保密，请联系分拣中心转达" in answer.get_data(as_text=True)
    assert _entries(demo, ticket, "reveal") == 0


def test_a_centre_that_restricts_dispatchers_shows_them_the_masked_form(app, client, auth, demo, planted):
    ticket, logins = planted
    app.config["DISPATCHER_SEES_CONTACT"] = False
    page = _fetch(client, auth, logins, "dispatcher", f"/desk/tickets/{ticket.number}").get_data(as_text=True)
    assert PHONE not in page and MASKED_PHONE in page and _entries(demo, ticket) == 0


def test_administrators_search_the_access_log_and_its_export_is_logged(client, auth, demo, planted):
    ticket, logins = planted
    _fetch(client, auth, logins, "admin", f"/desk/tickets/{ticket.number}")
    page = client.get(f"/admin/access-log?number={ticket.number}&action=view_contact").get_data(as_text=True)
    assert ticket.number in page and "查看联系方式" in page
    export = client.get(f"/admin/access-log.csv?number={ticket.number}")
    assert export.status_code == 200 and ticket.number in export.get_data(as_text=True)
    demo.expire_all()
    assert demo.scalar(select(func.count()).select_from(AccessEntry).where(AccessEntry.action == "export")) == 1
    auth.logout()
    auth.login(logins["dispatcher"])
    assert client.get("/admin/access-log").status_code == 403


def _token(page: str) -> str:
    return next(
        m.group(1) or m.group(2)
        for m in [re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|value="([^"]+)" name="csrf_token"', page)]
    )


def test_no_other_route_shows_the_number(app, client, auth, demo, planted):
    """Every GET route under the staff and API prefixes, as an administrator
    (who sees most): the planted number appears only on the listed routes."""
    ticket, logins = planted
    auth.login(logins["admin"])
    leaks = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if "GET" not in rule.methods or not path.startswith(("/tickets", "/agency", "/desk", "/reports", "/api")):
            continue
        if set(rule.arguments) - {"number"} or path in CONTACT_ROUTES:
            continue
        response = client.get(path.replace("<number>", ticket.number))
        if PHONE in response.get_data(as_text=True):
            leaks.append(path)
    assert leaks == []
