"""Transcription: an OpenAI-compatible service on loopback gets the voice note
as multipart (AMR converted to 16 kHz mono WAV) and its text routes the
ticket; a failing service is retried, then leaves the note to people; WeChat
voice messages without recognition are transcribed once downloaded."""

from __future__ import annotations

import io
import json
import threading
import wave
from datetime import timedelta
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from collector import transcription
from collector.transcription import HttpTranscriber, TranscriptionFailed, Voice, WeChatRecognition
from collector.wechat.jobs import make_download_media
from routing.clock import now as city_now
from routing.store.tickets import Attachment, Message, Status, Ticket, Transcription
from routing.store.workers import run_pending

from ..conftest import post_form

SPOKEN = "西湖区文新街道某小区门口的路灯坏了两个星期，晚上一片漆黑，老人出门很不安全。"


class FakeSpeechService:
    """``POST /v1/audio/transcriptions`` as OpenAI-compatible servers answer it."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.failures = 0  # answer this many requests with 503 first
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                message = BytesParser(policy=HTTP).parsebytes(
                    f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body
                )
                parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
                outer.requests.append(
                    {
                        "path": self.path,
                        "authorization": self.headers.get("Authorization"),
                        "fields": {k: p.get_content() for k, p in parts.items() if k != "file"},
                        "file": parts["file"].get_payload(decode=True) if "file" in parts else None,
                        "file_type": parts["file"].get_content_type() if "file" in parts else None,
                        "filename": parts["file"].get_filename() if "file" in parts else None,
                    }
                )
                if outer.failures:
                    outer.failures -= 1
                    self._answer(503, {"error": {"message": "overloaded"}})
                elif self.path != "/v1/audio/transcriptions" or "file" not in parts:
                    self._answer(400, {"error": {"message": "bad request"}})
                else:
                    self._answer(200, {"text": SPOKEN})

            def _answer(self, status: int, data: dict) -> None:
                payload = json.dumps(data, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def speech():
    service = FakeSpeechService()
    yield service
    service.close()


@pytest.fixture
def app_config(speech):
    speech.requests.clear()
    speech.failures = 0
    return {"TRANSCRIPTION_URL": speech.url, "TRANSCRIPTION_MODEL": "whisper-large-v3", "TRANSCRIPTION_API_KEY": "k-123"}


def run_jobs(app, session, at=None) -> int:
    services = app.extensions["tingjian"]
    ran = run_pending(services.db, services.jobs, (lambda: at) if at else city_now)
    session.expire_all()
    return ran


def voice_ticket(client, auth, voice: bytes, name: str) -> str:
    auth.login("deputy")
    response = post_form(
        client, "/deputy/", {"mode": "complaint", "constituents": "5", "voice": (io.BytesIO(voice), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def test_the_service_gets_amr_as_16_khz_mono_wav_and_its_text_routes_the_ticket(app, client, auth, demo, voices, speech):
    number = voice_ticket(client, auth, voices["amr"], "语音.amr")
    run_jobs(app, demo)
    (request,) = speech.requests
    assert request["path"] == "/v1/audio/transcriptions" and request["authorization"] == "Bearer k-123"
    assert request["fields"] == {"model": "whisper-large-v3", "language": "zh", "response_format": "json"}
    assert request["file_type"] == "audio/wav" and request["filename"].endswith(".wav")
    with wave.open(io.BytesIO(request["file"])) as wav:
        assert (wav.getframerate(), wav.getnchannels()) == (16000, 1)
    ticket = demo.scalar(select(Ticket).where(Ticket.number == number))
    assert ticket.text == SPOKEN and ticket.status is Status.ASSIGNED and ticket.topic
    done = demo.scalar(select(Transcription))
    assert (done.status, done.source, done.text) == ("done", "http", SPOKEN)
    assert [e.action for e in ticket.events][-3:] == ["transcribe", "classify", "assign"]


def test_formats_the_service_takes_are_sent_as_they_are(app, client, auth, demo, voices, speech):
    voice_ticket(client, auth, voices["m4a"], "语音.m4a")
    run_jobs(app, demo)
    (request,) = speech.requests
    assert request["file"] == voices["m4a"] and request["file_type"] == "audio/mp4"


def test_a_failing_service_is_retried_then_leaves_the_note_to_people(app, client, auth, demo, voices, speech):
    speech.failures = 10
    number = voice_ticket(client, auth, voices["ogg"], "语音.ogg")
    start = city_now()
    for hours in range(transcription.MAX_ATTEMPTS):
        run_jobs(app, demo, start + timedelta(hours=hours))
    assert len(speech.requests) == transcription.MAX_ATTEMPTS
    item = demo.scalar(select(Transcription))
    assert item.status == "person" and "503" in item.last_error
    ticket = demo.scalar(select(Ticket).where(Ticket.number == number))
    assert ticket.status is Status.TRIAGE and ticket.text == ""
    # The ticket is still in triage, the note still kept, and people are asked.
    auth.logout()
    auth.login("dispatcher")
    assert number in client.get("/desk/").get_data(as_text=True)
    assert number in client.get("/desk/transcribe/").get_data(as_text=True)


def test_a_service_that_recovers_before_giving_up_transcribes(app, client, auth, demo, voices, speech):
    speech.failures = 1
    voice_ticket(client, auth, voices["mp3"], "语音.mp3")
    start = city_now()
    run_jobs(app, demo, start)
    assert demo.scalar(select(Transcription)).attempts == 1
    run_jobs(app, demo, start + timedelta(minutes=5))
    assert demo.scalar(select(Transcription)).status == "done"


@pytest.mark.parametrize("app_config", [{}])
def test_without_a_service_the_note_goes_straight_to_people(app, client, auth, demo, voices):
    voice_ticket(client, auth, voices["webm"], "录音.webm")
    run_jobs(app, demo)
    assert demo.scalar(select(Transcription)).status == "person"


def test_the_backends_behind_one_interface(voices, speech):
    assert WeChatRecognition().transcribe(Voice(None, None, " 路灯坏了 ")) == "路灯坏了"
    assert WeChatRecognition().transcribe(Voice(voices["amr"], "audio/amr")) is None
    assert HttpTranscriber(speech.url).transcribe(Voice(voices["wav"], "audio/wav")) == SPOKEN
    with pytest.raises(TranscriptionFailed):
        HttpTranscriber("http://127.0.0.1:9").transcribe(Voice(voices["wav"], "audio/wav"))


@pytest.mark.parametrize("app_config", [{}])
def test_a_wechat_voice_message_without_recognition_is_transcribed_once_downloaded(app, demo, voices):
    ticket = Ticket(code="X", status=Status.TRIAGE, channel="wechat", text="", created_at=city_now(), updated_at=city_now())
    demo.add(ticket)
    demo.flush()
    heard = Message(ticket_id=ticket.id, channel="wechat", external_id="m1", sender="o1",
                    payload={"raw": {"MsgType": "voice", "Recognition": ""}}, received_at=city_now())
    recognised = Message(ticket_id=ticket.id, channel="wechat", external_id="m2", sender="o1",
                         payload={"raw": {"MsgType": "voice", "Recognition": "路灯坏了"}}, received_at=city_now())
    demo.add_all([heard, recognised])
    demo.flush()
    plain = Attachment(ticket_id=ticket.id, message_id=heard.id, kind="voice", media_id="v1", created_at=city_now())
    known = Attachment(ticket_id=ticket.id, message_id=recognised.id, kind="voice", media_id="v2", created_at=city_now())
    demo.add_all([plain, known])
    demo.commit()

    response = SimpleNamespace(headers={"Content-Type": "voice/amr"}, content=voices["amr"], text="")
    client = SimpleNamespace(media=SimpleNamespace(download=lambda media_id: response))
    download = make_download_media(lambda: client)
    for attachment in (plain, known):
        download(demo, {"attachment_id": attachment.id}, city_now())
    (asked,) = demo.scalars(select(Transcription))
    assert asked.attachment_id == plain.id and asked.status == "pending"
