"""The transcription queue (/desk/transcribe): staff play a voice note in the
page from an authenticated route and type what they hear; the ticket is then
classified and routed."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from routing.clock import now as city_now
from routing.store.tickets import Status, Ticket, Transcription
from routing.store.workers import run_pending

from ..conftest import post_form

HEARD = "拱墅区米市巷街道某小区门口的路灯坏了两个星期，晚上一片漆黑，老人出门很不安全。"


@pytest.fixture
def waiting(app, client, auth, demo, voices):
    """Two voice notes from the demo deputy (AMR and M4A), with no service to transcribe them."""
    auth.login("deputy")
    for ext in ("amr", "m4a"):
        post_form(
            client, "/deputy/", {"mode": "complaint", "constituents": "1", "voice": (io.BytesIO(voices[ext]), f"v.{ext}")},
            content_type="multipart/form-data",
        )
    services = app.extensions["tingjian"]
    run_pending(services.db, services.jobs, city_now)  # no TRANSCRIPTION_URL: they go to people
    auth.logout()
    demo.expire_all()
    return list(demo.scalars(select(Transcription).order_by(Transcription.id)))


def test_staff_play_the_note_and_type_it_and_the_ticket_is_routed(client, auth, demo, waiting):
    amr, m4a = waiting
    auth.login("dispatcher")
    queue = client.get("/desk/transcribe/").get_data(as_text=True)
    assert amr.ticket.number in queue and m4a.ticket.number in queue and "待人工转写" in queue
    assert "人大代表" in queue and "<td>deputy" not in queue  # the channel by name, not its code
    page = client.get(f"/desk/transcribe/{amr.id}").get_data(as_text=True)
    audio_url = f"/desk/transcribe/audio/{amr.attachment_id}"
    assert f'<audio controls preload="metadata" src="{audio_url}"' in page
    # AMR is no format a browser plays: the page gets WAV made from it; M4A as it is.
    played = client.get(audio_url)
    assert played.mimetype == "audio/wav" and played.data[:4] == b"RIFF" and "no-store" in played.headers["Cache-Control"]
    assert client.get(f"/desk/transcribe/audio/{m4a.attachment_id}").mimetype == "audio/mp4"

    response = post_form(client, f"/desk/transcribe/{amr.id}", {"text": HEARD})
    assert response.status_code == 302
    demo.expire_all()
    done = demo.get(Transcription, amr.id)
    ticket = demo.get(Ticket, done.ticket_id)
    assert (done.status, done.source, done.transcribed_by_id is not None) == ("done", "person", True)
    assert ticket.text == HEARD and ticket.status is Status.ASSIGNED
    assert ticket.events[-3].action == "transcribe" and ticket.events[-3].actor.startswith("分拨中心值班员")
    queue = client.get("/desk/transcribe/").get_data(as_text=True)
    assert "已转写" in queue and "人工转写（1）" in queue and m4a.ticket.number in queue
    # A second transcription of the same note changes nothing.
    post_form(client, f"/desk/transcribe/{amr.id}", {"text": "别的内容"}, page=f"/desk/transcribe/{m4a.id}")
    demo.expire_all()
    assert demo.get(Ticket, done.ticket_id).text == HEARD


def test_an_empty_transcript_is_refused(client, auth, demo, waiting):
    auth.login("dispatcher")
    response = post_form(client, f"/desk/transcribe/{waiting[0].id}", {"text": "  "})
    assert response.status_code == 400 and "请填写听到的内容" in response.get_data(as_text=True)
    demo.expire_all()
    assert demo.get(Transcription, waiting[0].id).status == "person"


def test_only_dispatchers_transcribe_and_hear_the_notes(client, auth, demo, waiting):
    for login in ("zhujian", "deputy"):
        auth.login(login)
        assert client.get("/desk/transcribe/").status_code == 403
        assert client.get(f"/desk/transcribe/{waiting[0].id}").status_code == 403
        assert client.get(f"/desk/transcribe/audio/{waiting[0].attachment_id}").status_code == 403
        auth.logout()
    assert client.get(f"/desk/transcribe/audio/{waiting[0].attachment_id}").status_code == 302  # to the login


def test_a_voice_note_waiting_in_triage_can_be_heard_from_the_ticket(client, auth, demo, waiting):
    auth.login("dispatcher")
    number = waiting[0].ticket.number
    assert "（尚无文字）" in client.get("/desk/").get_data(as_text=True)
    page = client.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert f"/desk/transcribe/audio/{waiting[0].attachment_id}" in page
    assert f"/desk/transcribe/{waiting[0].id}" in page and "语音待转写" in page
