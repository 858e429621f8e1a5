"""After logging in and after switching the language, a person is sent back
only to a page of this site: never to another host, whatever ``next`` says."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from admin.auth import safe_next
from admin.demo import DEMO_PASSWORD

from ..conftest import csrf_token

HOSTILE = [
    "//other.example",
    "////other.example",
    "/\\other.example",
    "\\\\other.example",
    "/\t/other.example",
    "/\n/other.example",
    "/\r\n/other.example",
    "/ /other.example",
    "https://other.example/",
    "javascript:alert(1)",
    "other.example",
    "/desk\r\nSet-Cookie: x=1",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_a_target_off_this_site_is_refused(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/desk/", "/tickets/?status=accepted&page=2", "/tickets/12#timeline"])
def test_a_path_on_this_site_is_kept(target):
    assert safe_next(target) == target


def _login(client, target: str):
    token = csrf_token(client, "/login")
    return client.post("/login", query_string={"next": target},
                       data={"username": "dispatcher", "password": DEMO_PASSWORD, "csrf_token": token})


def _stays_on_site(response) -> None:
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.netloc in ("", "tingjian.test")
    assert location.path.startswith("/") and not location.path.startswith("//")


@pytest.mark.parametrize("target", HOSTILE)
def test_login_never_sends_a_person_off_the_site(client, demo, target):
    response = _login(client, target)
    _stays_on_site(response)
    assert response.headers["Location"].endswith("/home")


@pytest.mark.parametrize("target", HOSTILE)
def test_the_language_switch_never_sends_a_person_off_the_site(client, auth, demo, target):
    auth.login("dispatcher")
    token = csrf_token(client, "/desk/")
    response = client.post("/locale", data={"locale": "zh", "next": target, "csrf_token": token})
    _stays_on_site(response)
    assert response.headers["Location"].endswith("/home")


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.text(alphabet=st.sampled_from("/\\\t\n\r :.@?#%ae0\x00\x7f\u3000ü"), max_size=12))
def test_any_target_kept_is_a_plain_path(target):
    kept = safe_next(target)
    if kept is not None:
        parts = urlsplit(kept)
        assert kept.startswith("/") and not kept.startswith("//")
        assert not parts.scheme and not parts.netloc
        assert not any(ch in kept for ch in "\\\t\n\r ")


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.text(max_size=20))
def test_login_with_any_next_answers_a_redirect_on_this_site(client, demo, target):
    _stays_on_site(_login(client, target))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/desk/")})
