"""The administrator's console of agencies (/admin/agencies)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from routing.store.audit import changes
from routing.store.organisation import SUBJECT
from routing.store.people import Agency

from ..conftest import post_form


def _agency(session, name):
    session.expire_all()
    return session.scalar(select(Agency).where(Agency.name == name))


@pytest.mark.parametrize("login", ["dispatcher", "zhujian", "deputy"])
def test_only_administrators_reach_the_console(client, auth, demo, login):
    auth.login(login)
    assert client.get("/admin/agencies/").status_code == 403
    assert client.post("/admin/agencies/", data={"name": "x"}).status_code in (400, 403)
    assert _agency(demo, "x") is None


def test_anonymous_visitors_are_sent_to_log_in(client, demo):
    assert "/login" in client.get("/admin/agencies/").headers["Location"]


def test_the_administrator_lists_agencies_in_chinese(client, auth, demo):
    auth.login("admin")
    page = client.get("/admin/agencies/").get_data(as_text=True)
    assert "承办单位管理" in page and "市住建局" in page and "新建承办单位" in page


def test_a_new_agency_is_created_edited_and_every_change_shown_on_its_page(client, auth, demo):
    auth.login("admin")
    created = post_form(client, "/admin/agencies/", {"name": "市水务集团", "short_name": "水务", "kind": "utility",
                                                     "district": "", "street": "", "supervisor": ""})
    assert created.status_code == 302
    agency = _agency(demo, "市水务集团")
    assert (agency.kind, agency.short_name, agency.active) == ("utility", "水务", True)

    edited = post_form(client, f"/admin/agencies/{agency.id}", {"name": "市水务集团有限公司", "short_name": "水务",
                                                                "kind": "utility", "district": "", "street": "",
                                                                "supervisor": ""})
    assert edited.status_code == 302
    post_form(client, f"/admin/agencies/{agency.id}/deactivate", {}, page=f"/admin/agencies/{agency.id}")
    assert not _agency(demo, "市水务集团有限公司").active

    page = client.get(f"/admin/agencies/{agency.id}").get_data(as_text=True)
    assert "变更记录" in page and "市水务集团有限公司" in page and "启用单位" in page
    assert [c.action for c in changes(demo, SUBJECT, agency.id)] == ["deactivate", "edit", "create"]
    assert all(c.actor_id is not None for c in changes(demo, SUBJECT, agency.id))  # who did it


def test_a_taken_name_says_why_and_creates_nothing(client, auth, demo):
    auth.login("admin")
    before = len(demo.scalars(select(Agency)).all())
    refused = post_form(client, "/admin/agencies/", {"name": "市住建局", "kind": "bureau", "district": "",
                                                     "street": "", "supervisor": ""})
    assert refused.status_code == 400 and "已有同名的承办单位" in refused.get_data(as_text=True)
    assert len(demo.scalars(select(Agency)).all()) == before


def test_the_pages_read_in_english(client, auth, demo):
    auth.login("admin")
    page = post_form(client, "/locale", {"locale": "en", "next": "/admin/agencies/"}, page="/admin/agencies/",
                     follow_redirects=True).get_data(as_text=True)
    assert "<h1>Agencies</h1>" in page and "New agency" in page and "Change history" in page
    assert "承办单位管理" not in page
