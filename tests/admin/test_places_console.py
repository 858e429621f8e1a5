"""The administrator's console of the gazetteer (/admin/places): districts,
streets and their aliases, every change in the change log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from routing.store.areas import District, Street
from routing.store.audit import changes
from routing.store.gazetteer import DISTRICT, STREET

from ..conftest import post_form


def _district(session, name):
    session.expire_all()
    return session.scalar(select(District).where(District.name == name))


def _street(session, district, name):
    session.expire_all()
    return session.scalar(select(Street).where(Street.district_id == district.id, Street.name == name))


@pytest.mark.parametrize("login", ["dispatcher", "zhujian", "deputy"])
def test_only_administrators_reach_the_console(client, auth, demo, login):
    auth.login(login)
    xihu = _district(demo, "西湖区")
    assert client.get("/admin/places/").status_code == 403
    assert client.get(f"/admin/places/{xihu.id}").status_code == 403
    assert client.post("/admin/places/", data={"name": "新城区"}).status_code in (400, 403)
    assert client.post(f"/admin/places/{xihu.id}/streets", data={"name": "新街街道"}).status_code in (400, 403)
    assert _district(demo, "新城区") is None and _street(demo, xihu, "新街街道") is None


def test_anonymous_visitors_are_sent_to_log_in(client, demo):
    assert "/login" in client.get("/admin/places/").headers["Location"]


def test_the_administrator_lists_districts_with_their_streets_and_ticket_counts(client, auth, demo):
    auth.login("admin")
    page = client.get("/admin/places/").get_data(as_text=True)
    assert "地名库管理" in page and "西湖区" in page and "文新街道" in page and "新建区县" in page
    assert "工单数" in page
    assert 'href="/admin/places/"' in client.get("/").get_data(as_text=True)  # in the navigation


def test_a_district_and_a_street_are_created_edited_and_every_change_shown(client, auth, demo):
    auth.login("admin")
    created = post_form(client, "/admin/places/", {"name": "新城区", "aliases": "新城", "fallback_agency": ""})
    assert created.status_code == 302
    district = _district(demo, "新城区")
    assert [a.alias for a in district.aliases] == ["新城"]

    page = f"/admin/places/{district.id}"
    post_form(client, page, {"name": "新城区", "aliases": "新城、新区", "fallback_agency": ""})
    post_form(client, f"{page}/streets", {"name": "新街街道", "aliases": "新街"}, page=page)
    street = _street(demo, district, "新街街道")
    assert [a.alias for a in street.aliases] == ["新街"]
    post_form(client, f"/admin/places/streets/{street.id}", {"name": "新街街道", "aliases": ""})
    assert _street(demo, district, "新街街道").aliases == []

    assert [c.action for c in changes(demo, DISTRICT, district.id)] == ["edit", "create"]
    assert [c.action for c in changes(demo, STREET, street.id)] == ["edit", "create"]
    assert all(c.actor_id is not None for c in changes(demo, STREET, street.id))  # who did it
    shown = client.get(page).get_data(as_text=True)
    assert "变更记录" in shown and "<del>新城</del>" in shown and "新街街道" in shown
    assert "<del>新街</del>" in client.get(f"/admin/places/streets/{street.id}").get_data(as_text=True)


def test_an_alias_naming_another_place_says_why_and_changes_nothing(client, auth, demo):
    auth.login("admin")
    post_form(client, "/admin/places/", {"name": "新城区", "aliases": "新城", "fallback_agency": ""})
    xihu = _district(demo, "西湖区")
    refused = post_form(
        client, f"/admin/places/{xihu.id}", {"name": "西湖区", "aliases": "新城", "fallback_agency": ""}
    )
    assert refused.status_code == 400 and "“新城”已是新城区的别名" in refused.get_data(as_text=True)
    assert _district(demo, "西湖区").aliases == []
    taken = post_form(client, "/admin/places/", {"name": "西湖区", "aliases": "", "fallback_agency": ""})
    assert taken.status_code == 400 and "已有同名的区县" in taken.get_data(as_text=True)


def test_an_unknown_place_is_not_found(client, auth, demo):
    auth.login("admin")
    assert client.get("/admin/places/999999").status_code == 404
    assert client.get("/admin/places/streets/999999").status_code == 404


def test_the_pages_read_in_english(client, auth, demo):
    auth.login("admin")
    page = post_form(
        client, "/locale", {"locale": "en", "next": "/admin/places/"}, page="/admin/places/", follow_redirects=True
    ).get_data(as_text=True)
    assert "<h1>Places</h1>" in page and "New district" in page and "Change history" in page
    assert "地名库管理" not in page
