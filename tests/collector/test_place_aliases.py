"""The place detector reads the city's gazetteer: an alias an administrator
adds on the console places the next submission that uses it, in this process
and in every other one on the same database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from admin import create_app
from collector.places import CityGazetteer
from routing.clock import now
from routing.store.areas import District, Street
from routing.store.db import Database
from routing.store.gazetteer import save_street
from routing.store.tickets import Ticket

from ..conftest import AuthActions, post_form

# Only the alias says where: no district, street or landmark of the shipped file.
TEXT = "龙坞茶村旁边的路灯坏了好几天，晚上走路很危险，请尽快修一下。"


def _submit(client, text: str = TEXT) -> None:
    response = post_form(client, "/", {"text": text, "station": "", "location": "", "name": "", "phone": ""})
    assert response.status_code == 302  # to the receipt


def _placed(session, text: str = TEXT) -> list[tuple[str | None, str | None]]:
    session.expire_all()
    tickets = session.scalars(select(Ticket).where(Ticket.text == text).order_by(Ticket.id))
    return [(t.district.name if t.district else None, t.street.name if t.street else None) for t in tickets]


def _add_alias_on_the_console(client, session) -> None:
    AuthActions(client).login("admin")
    xihu = session.scalar(select(District).where(District.name == "西湖区"))
    zhuantang = session.scalar(select(Street).where(Street.district_id == xihu.id, Street.name == "转塘街道"))
    page = f"/admin/places/streets/{zhuantang.id}"
    assert post_form(client, page, {"name": "转塘街道", "aliases": "龙坞茶村"}).status_code == 302
    AuthActions(client).logout()


@pytest.fixture
def other_app(database_url, model_dir) -> Iterator[Flask]:
    """A second application on the same database, as another machine runs it."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "MODEL_DIR": str(model_dir),
            "SERVER_NAME": "tingjian.test",
            "JOBS_IN_PROCESS": False,
            "TINGJIAN_ENV": "development",
            "GAZETTEER_CHECK_SECONDS": 0,
        }
    )
    yield app
    app.extensions["tingjian"].db.dispose()


def test_an_alias_added_on_the_console_places_the_next_submission(client, demo):
    _submit(client)
    _add_alias_on_the_console(client, demo)
    _submit(client)
    assert _placed(demo) == [(None, None), ("西湖区", "转塘街道")]


def test_another_application_on_the_same_database_sees_the_alias_too(client, demo, other_app):
    elsewhere = other_app.test_client()
    _submit(elsewhere)  # its detector is built before the change
    _add_alias_on_the_console(client, demo)
    _submit(elsewhere)
    assert _placed(demo) == [(None, None), ("西湖区", "转塘街道")]


def test_a_process_looks_again_only_after_its_interval(app, demo):
    seconds = [0.0]
    city = CityGazetteer(app.extensions["tingjian"].db, check_seconds=5, clock=lambda: seconds[0])
    assert not city().find(TEXT)
    xihu = demo.scalar(select(District).where(District.name == "西湖区"))
    zhuantang = demo.scalar(select(Street).where(Street.district_id == xihu.id, Street.name == "转塘街道"))
    save_street(demo, xihu, "转塘街道", ["龙坞茶村"], street=zhuantang, now=now())
    demo.commit()
    seconds[0] = 4.0
    assert not city().find(TEXT)  # trusted for its interval
    seconds[0] = 5.0
    assert city().find(TEXT).street == "转塘街道"


def test_without_the_database_the_places_known_so_far_still_serve(tmp_path):
    away = Database(f"sqlite:///{tmp_path / 'no such folder' / 'tingjian.db'}")
    city = CityGazetteer(away, check_seconds=0)
    assert city().find("西湖区文新街道的路灯坏了").street == "文新街道"  # the shipped file
    away.dispose()
