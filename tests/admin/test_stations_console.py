"""The administrator's console of liaison stations (/admin/stations) and deputies (/admin/deputies)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from routing.store.areas import District, Station
from routing.store.audit import changes
from routing.store.deputies import Deputy
from routing.store.stations import DEPUTY_SUBJECT, STATION_SUBJECT

from ..conftest import post_form


def _station(session, name):
    session.expire_all()
    return session.scalar(select(Station).where(Station.name == name))


@pytest.mark.parametrize("login", ["dispatcher", "zhujian", "deputy"])
def test_only_administrators_reach_the_console(client, auth, demo, login):
    auth.login(login)
    assert client.get("/admin/stations/").status_code == 403
    assert client.get("/admin/deputies/").status_code == 403


def test_a_station_is_created_edited_deactivated_and_its_log_shown(client, auth, demo):
    auth.login("admin")
    district = demo.scalars(select(District)).first()
    street = district.streets[0]
    created = post_form(client, "/admin/stations/", {"name": "新站", "district": str(district.id),
                                                     "street": str(street.id), "address": "一号"})
    assert created.status_code == 302
    station = _station(demo, "新站")
    assert (station.district_id, station.street_id, station.active) == (district.id, street.id, True)

    post_form(client, f"/admin/stations/{station.id}", {"name": "新站", "district": str(district.id), "street": "",
                                                        "address": "二号"}, page=f"/admin/stations/{station.id}")
    post_form(client, f"/admin/stations/{station.id}/deactivate", {}, page=f"/admin/stations/{station.id}")

    assert not _station(demo, "新站").active
    page = client.get(f"/admin/stations/{station.id}").get_data(as_text=True)
    assert "变更记录" in page and "二号" in page and "启用联络站" in page
    assert [c.action for c in changes(demo, STATION_SUBJECT, station.id)] == ["deactivate", "edit", "create"]


def test_a_deputy_is_created_with_a_password_shown_once_and_edited(client, auth, demo):
    auth.login("admin")
    station = demo.scalars(select(Station)).first()
    page = post_form(client, "/admin/deputies/", {"username": "liuyang", "name": "刘洋", "level": "city",
                                                  "mobile": "13900000000", "stations": [str(station.id)]})
    assert page.status_code == 200 and "临时密码" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    demo.expire_all()
    deputy = demo.scalar(select(Deputy).where(Deputy.name == "刘洋"))
    assert [s.id for s in deputy.stations] == [station.id] and deputy.user.must_change_password

    post_form(client, f"/admin/deputies/{deputy.id}", {"name": "刘洋", "level": "district", "mobile": "",
                                                       "stations": []}, page=f"/admin/deputies/{deputy.id}")
    post_form(client, f"/admin/deputies/{deputy.id}/deactivate", {}, page=f"/admin/deputies/{deputy.id}")

    demo.expire_all()
    assert (deputy.level.value, deputy.stations, deputy.user.active) == ("district", [], False)
    detail = client.get(f"/admin/deputies/{deputy.id}").get_data(as_text=True)
    assert "微信：未绑定" in detail and "启用代表" in detail
    assert [c.action for c in changes(demo, DEPUTY_SUBJECT, deputy.id)] == ["deactivate", "edit", "create"]


def test_a_station_lists_its_deputies_and_a_street_outside_its_district_is_refused(client, auth, demo):
    auth.login("admin")
    deputy = demo.scalars(select(Deputy)).first()
    station = deputy.stations[0]
    page = client.get(f"/admin/stations/{station.id}").get_data(as_text=True)
    assert f"/admin/deputies/{deputy.id}" in page and deputy.name in page

    other = next(d for d in demo.scalars(select(District)) if d.id != station.district_id and d.streets)
    post_form(client, f"/admin/stations/{station.id}", {"name": station.name, "district": str(station.district_id),
                                                        "street": str(other.streets[0].id), "address": ""},
              page=f"/admin/stations/{station.id}")
    assert _station(demo, station.name).street_id != other.streets[0].id


def test_the_organisation_is_uploaded_checked_then_imported_with_passwords_shown_once(client, auth, demo):
    from pathlib import Path

    from routing.store.people import User

    sample = (Path(__file__).parents[2] / "docs" / "samples" / "organisation.xlsx").read_bytes()
    auth.login("admin")

    def upload(**extra):
        import io
        return post_form(client, "/admin/organisation/import/", {"upload": (io.BytesIO(sample), "organisation.xlsx"),
                                                                  **extra}, content_type="multipart/form-data")

    checked = upload(check_only="y").get_data(as_text=True)
    assert "检查无误，未导入" in checked and "账号：将新建 2" in checked
    assert demo.scalar(select(User).where(User.username == "lijun")) is None

    imported = upload()
    assert imported.headers["Cache-Control"] == "no-store"
    assert "lijun（李军）" in imported.get_data(as_text=True)
    demo.expire_all()
    assert demo.scalar(select(User).where(User.username == "lijun")).must_change_password
