"""Internal notes on the ticket page: the agency and the centre read and
write them; the resident, on the status page or through the API, never sees one."""

from __future__ import annotations

from sqlalchemy import select

from routing.store.people import Agency

from ..conftest import post_form
from ..helpers import agency_login, ticket
from .test_flow import submit_on_the_station_page

NOTE = "已联系物业经理王某，约定周三上门查看"


def test_the_agency_writes_a_note_the_centre_reads_and_the_resident_never_sees(client, auth, demo):
    number, code = submit_on_the_station_page(client, demo)
    lead = ticket(demo, number).agency
    auth.login(agency_login(demo, lead))
    response = post_form(client, f"/tickets/{number}/notes", {"text": NOTE}, page=f"/agency/tickets/{number}")
    assert response.headers["Location"].endswith(f"/agency/tickets/{number}#notes")
    page = client.get(f"/agency/tickets/{number}").get_data(as_text=True)
    assert NOTE in page.split('id="notes"', 1)[1] and "备注已保存" in page
    auth.logout()

    auth.login("dispatcher")
    assert NOTE in client.get(f"/desk/tickets/{number}").get_data(as_text=True)
    auth.logout()

    assert NOTE not in client.get(f"/status/{number}?code={code}").get_data(as_text=True)
    assert NOTE not in client.get(f"/api/v1/tickets/{number}?code={code}").get_data(as_text=True)


def test_an_agency_not_handling_the_ticket_cannot_write_one(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo)
    lead = ticket(demo, number).agency
    other = demo.scalar(select(Agency).where(Agency.id != lead.id, Agency.active.is_(True)))
    auth.login(agency_login(demo, other))
    page = f"/tickets/{number}/notes"
    response = post_form(client, page, {"text": NOTE}, page="/agency/")
    assert response.status_code == 404
    assert NOTE not in [e.reason for e in ticket(demo, number).events]


def test_an_empty_note_says_what_to_do_and_writes_nothing(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo)
    auth.login("dispatcher")
    before = len(ticket(demo, number).events)
    page = post_form(client, f"/tickets/{number}/notes", {"text": ""}, page=f"/desk/tickets/{number}",
                     follow_redirects=True).get_data(as_text=True)
    assert "请填写备注内容" in page
    assert len(ticket(demo, number).events) == before
