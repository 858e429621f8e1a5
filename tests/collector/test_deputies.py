"""Deputies submit on a phone (/deputy): text or a voice note, a passed-on
complaint or a formal suggestion; bad files change nothing; a deputy follows
up only their own submissions, and a station's page shows what came through it."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from collector.deputies import register
from routing.store.access_log import ATTACHMENT, AccessEntry
from routing.store.areas import Station
from routing.store.deputies import DeputyLevel, DeputySubmission
from routing.store.jobs import Job
from routing.store.people import User
from routing.store.tickets import Attachment, Kind, Status, Ticket, Transcription

from ..conftest import post_form
from ..helpers import ticket as reload

COMPLAINT = "西湖区文新街道某小区门口的路灯坏了两个星期，晚上一片漆黑，老人出门很不安全。"
SUGGESTION = "建议在西湖区文新街道学院路增设公交站台，方便周边居民出行。"


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def station(session, name="文新街道人大代表联络站") -> Station:
    return session.scalar(select(Station).where(Station.name == name))


def submit(client, *, text="", voice=None, mode="complaint", constituents="3", place="", station_id=""):
    data = {"text": text, "mode": mode, "constituents": constituents, "place": place, "station": station_id}
    if voice is not None:
        data["voice"] = (io.BytesIO(voice[0]), voice[1])
    return post_form(client, "/deputy/", data, content_type="multipart/form-data")


@pytest.fixture
def deputy(client, auth, demo):
    """The demo deputy (王代表, 市, 文新 and 湖滨 stations), logged in."""
    auth.login("deputy")
    return demo


def test_a_deputy_passes_on_constituents_complaint_in_text(client, deputy):
    wenxin = station(deputy)
    response = submit(client, text=COMPLAINT, constituents="12", place="文新街道某小区", station_id=str(wenxin.id))
    assert response.status_code == 302
    submission = deputy.scalar(select(DeputySubmission))
    ticket = reload(deputy, submission.ticket.number)
    assert ticket.channel == "deputy" and ticket.station_id == wenxin.id and ticket.contact_name == "王代表"
    assert submission.constituents == 12 and submission.place == "文新街道某小区" and submission.mode == "complaint"
    assert ticket.status is Status.ASSIGNED and ticket.kind is not Kind.DEPUTY_SUGGESTION
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ticket.number in page and "12 人" in page and ticket.agency.name in page


def test_a_formal_suggestion_keeps_its_kind_and_longer_deadline(client, deputy):
    submit(client, text=SUGGESTION, mode="suggestion")
    submit(client, text=COMPLAINT)
    suggestion, complaint = (reload(deputy, s.ticket.number) for s in deputy.scalars(select(DeputySubmission).order_by(DeputySubmission.id)))
    assert suggestion.kind is Kind.DEPUTY_SUGGESTION and suggestion.status is Status.ASSIGNED
    # 代表建议: about three months (60 working days) from assignment, against 15 for a complaint.
    assert suggestion.answer_by - suggestion.assigned_at > timedelta(days=80)
    assert complaint.answer_by - complaint.assigned_at < timedelta(days=30)


@pytest.mark.parametrize("ext", ["amr", "m4a", "mp3", "wav", "webm", "ogg"])
def test_a_voice_note_in_every_recording_format_is_kept_and_waits_for_its_text(client, deputy, voices, ext):
    response = submit(client, voice=(voices[ext], f"语音.{ext}"))
    assert response.status_code == 302, response.get_data(as_text=True)
    ticket = deputy.scalar(select(Ticket).where(Ticket.channel == "deputy"))
    assert ticket.status is Status.TRIAGE and ticket.events[-1].reason == "语音待转写"
    attachment = deputy.scalar(select(Attachment).where(Attachment.ticket_id == ticket.id))
    assert attachment.kind == "voice" and attachment.data == voices[ext] and attachment.content_type.startswith("audio/")
    assert deputy.scalar(select(Transcription)).status == "pending"
    assert deputy.scalar(select(Job).where(Job.kind == "transcription.transcribe")) is not None
    # Visible to the dispatcher while it waits, never lost.
    auth_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "语音正在转写" in auth_page


def test_a_deputy_plays_back_their_own_recording_and_nobody_else_hears_it(client, auth, deputy, voices):
    submit(client, voice=(voices["amr"], "语音.amr"))
    ticket = deputy.scalar(select(Ticket).where(Ticket.channel == "deputy"))
    note = deputy.scalar(select(Attachment).where(Attachment.ticket_id == ticket.id))
    url = f"/deputy/tickets/{ticket.number}/voice/{note.id}"
    page = client.get(f"/deputy/tickets/{ticket.number}").get_data(as_text=True)
    assert f'src="{url}"' in page and "我的录音" in page
    played = client.get(url)
    # AMR is no format a browser plays: the deputy hears WAV made from it, never cached.
    assert played.status_code == 200 and played.mimetype == "audio/wav" and played.data[:4] == b"RIFF"
    assert "no-store" in played.headers["Cache-Control"]
    logged = deputy.scalar(select(AccessEntry).where(AccessEntry.ticket_id == ticket.id))
    assert (logged.action, logged.detail["attachment_id"]) == (ATTACHMENT, note.id)
    # Not another ticket's note through this ticket's address.
    submit(client, text=COMPLAINT)
    other = deputy.scalars(select(Ticket).where(Ticket.channel == "deputy").order_by(Ticket.id)).all()[-1]
    assert client.get(f"/deputy/tickets/{other.number}/voice/{note.id}").status_code == 404
    # Another deputy, agency staff and visitors do not hear it.
    register(deputy, "deputy2", "李代表", "区", ["良渚街道人大代表联络站"], "another-pass-123")
    auth.logout()
    auth.login("deputy2", "another-pass-123")
    assert client.get(url).status_code == 404
    auth.logout()
    auth.login("zhujian")
    assert client.get(url).status_code == 403
    auth.logout()
    assert client.get(url).status_code == 302  # to the login


def _refused(client, session, response, words: str) -> None:
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert count(session, DeputySubmission) == 0 and count(session, Attachment) == 0 and count(session, Job) == 0
    assert session.scalar(select(Ticket).where(Ticket.channel == "deputy")) is None


def test_a_file_that_is_not_audio_is_refused_whatever_its_name(client, deputy, voices):
    png = b"\x89PNG\r\n\x1a\n" + bytes(200)
    _refused(client, deputy, submit(client, text=COMPLAINT, voice=(png, "语音.mp3")), "不是")
    _refused(client, deputy, submit(client, voice=(b"just some text, not a sound", "note.wav")), "不是")


def test_a_corrupt_recording_is_refused(client, deputy, voices):
    corrupt = voices["wav"][:44] + bytes(range(256)) * 3  # a WAV header over noise that is no WAV data
    broken_m4a = voices["m4a"][: len(voices["m4a"]) // 3]
    for data, name in ((corrupt[:40], "a.wav"), (broken_m4a, "b.m4a")):
        _refused(client, deputy, submit(client, voice=(data, name)), "音频")


@pytest.mark.parametrize("app_config", [{"VOICE_MAX_SECONDS": 1}])
def test_a_recording_over_the_length_limit_is_refused(client, deputy, voices):
    _refused(client, deputy, submit(client, voice=(voices["mp3"], "long.mp3")), "录音太长")


@pytest.mark.parametrize("app_config", [{"VOICE_MAX_BYTES": 5000}])
def test_a_recording_over_the_size_limit_is_refused(client, deputy, voices):
    _refused(client, deputy, submit(client, voice=(voices["m4a"], "big.m4a")), "音频文件太大")
    # Far over it, the request itself is refused before it is read.
    # (Under the test client's 500 kB spooling threshold, which would leave a temporary file open.)
    huge = voices["wav"] + bytes(400_000 - len(voices["wav"]))
    response = submit(client, voice=(huge, "huge.wav"))
    assert response.status_code == 413 and "MB 以内" in response.get_data(as_text=True)
    assert count(deputy, DeputySubmission) == 0


def test_nothing_to_say_is_refused(client, deputy):
    _refused(client, deputy, submit(client), "请写下反映的内容")


def test_a_deputy_cannot_submit_through_another_deputys_station(client, deputy):
    other = station(deputy, "良渚街道人大代表联络站")
    _refused(client, deputy, submit(client, text=COMPLAINT, station_id=str(other.id)), "")


def test_the_deputy_follows_up_everything_raised_with_late_ones_marked(client, deputy):
    submit(client, text=COMPLAINT)
    submit(client, text=SUGGESTION, mode="suggestion")
    late, _ = (s.ticket for s in deputy.scalars(select(DeputySubmission).order_by(DeputySubmission.id)))
    late.answer_by = late.created_at - timedelta(days=1)
    deputy.commit()
    page = client.get("/deputy/tickets").get_data(as_text=True)
    assert page.count("超期") >= 2 and late.number in page and "代表建议" in page
    assert late.agency.name in page


def test_a_deputy_sees_only_their_own_submissions(client, auth, deputy):
    submit(client, text=COMPLAINT)
    mine = deputy.scalar(select(Ticket).where(Ticket.channel == "deputy"))
    assert client.get(f"/deputy/tickets/{mine.number}").status_code == 200
    register(deputy, "deputy2", "李代表", "区", ["良渚街道人大代表联络站"], "another-pass-123")
    auth.logout()
    auth.login("deputy2", "another-pass-123")
    assert client.get(f"/deputy/tickets/{mine.number}").status_code == 404
    assert mine.number not in client.get("/deputy/tickets").get_data(as_text=True)
    # Nor the station page of a station they do not serve.
    assert client.get(f"/deputy/stations/{station(deputy).id}").status_code == 403


def test_agency_staff_and_strangers_cannot_open_the_portal(client, auth, demo):
    assert client.get("/deputy/").status_code == 302  # to the login
    auth.login("zhujian")
    assert client.get("/deputy/").status_code == 403
    assert client.get("/deputy/tickets").status_code == 403
    assert client.get(f"/deputy/stations/{station(demo).id}").status_code == 403


def test_a_stations_page_shows_what_came_through_it_to_its_deputies_and_dispatchers(client, auth, deputy):
    wenxin = station(deputy)
    submit(client, text=COMPLAINT, station_id=str(wenxin.id))
    submit(client, text=SUGGESTION)  # through no station
    through, elsewhere = (s.ticket.number for s in deputy.scalars(select(DeputySubmission).order_by(DeputySubmission.id)))
    client.get("/deputy/tickets")  # where the receipt's message is shown
    page = client.get(f"/deputy/stations/{wenxin.id}").get_data(as_text=True)
    assert through in page and elsewhere not in page and "王代表" in page
    auth.logout()
    auth.login("dispatcher")
    page = client.get(f"/deputy/stations/{wenxin.id}").get_data(as_text=True)
    assert through in page and f"/desk/tickets/{through}" in page


def test_the_portal_offers_recording_with_a_file_input_to_fall_back_on(client, deputy):
    page = client.get("/deputy/").get_data(as_text=True)
    assert 'type="file"' in page and 'name="voice"' in page and "recorder.js" in page
    assert "文新街道人大代表联络站" in page
    with client.get("/assets/recorder.js") as script:
        assert script.status_code == 200 and b"MediaRecorder" in script.data


def test_deputies_are_added_on_the_command_line(runner, demo):
    result = runner.invoke(
        args=["deputy", "add", "zhao", "--name", "赵代表", "--level", "省", "--station", "湖滨街道人大代表联络站",
              "--password", "west-lake-pass-123"]
    )
    assert result.exit_code == 0, result.output
    assert "赵代表（省人大代表）：湖滨街道人大代表联络站" in result.output
    user = demo.scalar(select(User).where(User.username == "zhao"))
    assert user.role.value == "deputy"
    result = runner.invoke(args=["deputy", "add", "zhao", "--name", "赵代表", "--level", "省", "--station", "没有的站"])
    assert result.exit_code != 0 and "没有这些联络站" in result.output
    from routing.store.deputies import Deputy

    assert demo.scalar(select(Deputy).where(Deputy.user_id == user.id)).level is DeputyLevel.PROVINCE
