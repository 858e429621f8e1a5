"""Transcription (语音转写): a voice note's text, from whichever source can give it.

One interface, three sources, tried in order: WeChat's own recognition (it
comes with the message), a speech-to-text service speaking the
OpenAI-compatible ``/v1/audio/transcriptions``, and people, who listen in the
admin's transcription queue (/desk/transcribe). Transcribing runs as a job:
the voice note and its job are stored with the ticket, so a crash loses
neither, and a service that keeps failing hands the note to people.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from routing.flow import steps
from routing.flow.inbound import Labels
from routing.flow.tickets import relabel
from routing.store.jobs import Handler, enqueue
from routing.store.people import User
from routing.store.tickets import Attachment, Message, Ticket, Transcription

from . import audio

TRANSCRIBE = "transcription.transcribe"
PENDING, PERSON, DONE = "pending", "person", "done"
# A service that failed this many times leaves the note to people.
MAX_ATTEMPTS = 3
MAX_TEXT = 5000

Reader = Callable[[str, str | None], Labels]


class TranscriptionFailed(RuntimeError):
    """A backend could not transcribe now (down, refused, bad answer)."""


@dataclass(frozen=True)
class Voice:
    data: bytes | None
    content_type: str | None
    # What the channel recognised already (WeChat's Recognition), if anything.
    recognition: str | None = None


class Backend(Protocol):
    name: str

    def transcribe(self, voice: Voice) -> str | None:
        """The text; None when this source has nothing to say about the note;
        ``TranscriptionFailed`` when it should have but could not."""


class WeChatRecognition:
    """WeChat's own recognition (语音识别结果), when it came with the message."""

    name = "wechat"

    def transcribe(self, voice: Voice) -> str | None:
        return (voice.recognition or "").strip() or None


class HttpTranscriber:
    """An OpenAI-compatible speech-to-text service: ``POST {url}/v1/audio/transcriptions``
    with the file as multipart, ``model`` and ``language=zh``; answers ``{"text": ...}``."""

    name = "http"
    # What such services take; anything else (AMR) is converted to 16 kHz mono WAV first.
    ACCEPTED = {"audio/mpeg", "audio/mp4", "audio/wav", "audio/webm", "audio/ogg"}
    EXTENSIONS = {"audio/mpeg": "mp3", "audio/mp4": "m4a", "audio/wav": "wav", "audio/webm": "webm", "audio/ogg": "ogg"}

    def __init__(self, url: str, model: str = "whisper-1", api_key: str = "", timeout: float = 120) -> None:
        self.endpoint = url.rstrip("/") + "/v1/audio/transcriptions"
        self.model, self.api_key, self.timeout = model, api_key, timeout

    def transcribe(self, voice: Voice) -> str | None:
        if not voice.data:
            return None
        data, content_type = self.prepare(voice)
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = requests.post(
                self.endpoint,
                headers=headers,
                files={"file": (f"voice.{self.EXTENSIONS[content_type]}", data, content_type)},
                data={"model": self.model, "language": "zh", "response_format": "json"},
                timeout=self.timeout,
            )
            response.raise_for_status()
            text = response.json().get("text")
        except (requests.RequestException, ValueError, AttributeError) as exc:
            raise TranscriptionFailed(f"转写服务出错：{exc}") from exc
        if not isinstance(text, str):
            raise TranscriptionFailed("转写服务的回答里没有 text")
        return text.strip() or None

    def prepare(self, voice: Voice) -> tuple[bytes, str]:
        content_type = (voice.content_type or "").split(";")[0].strip().lower()
        if content_type in self.ACCEPTED:
            return voice.data, content_type
        try:
            return audio.to_wav(voice.data), "audio/wav"
        except audio.AudioError as exc:
            raise TranscriptionFailed(str(exc)) from exc


def backends_from(config: dict[str, Any]) -> list[Backend]:
    """The configured sources: WeChat's recognition always, the service when
    ``TRANSCRIPTION_URL`` is set. People are the last resort, not a backend."""
    found: list[Backend] = [WeChatRecognition()]
    if config.get("TRANSCRIPTION_URL"):
        found.append(
            HttpTranscriber(
                config["TRANSCRIPTION_URL"],
                config.get("TRANSCRIPTION_MODEL") or "whisper-1",
                config.get("TRANSCRIPTION_API_KEY") or "",
            )
        )
    return found


# -- the record and the job ---------------------------------------------------


def request(session: Session, attachment: Attachment, now: datetime) -> Transcription:
    """Ask for a voice note's text: the record and its job join the caller's
    transaction. Asking twice for one note gives the first record."""
    existing = session.scalar(select(Transcription).where(Transcription.attachment_id == attachment.id))
    if existing is not None:
        return existing
    if attachment.id is None:
        session.flush()
    transcription = Transcription(
        attachment_id=attachment.id, ticket_id=attachment.ticket_id, status=PENDING, attempts=0, created_at=now
    )
    session.add(transcription)
    session.flush()
    enqueue(session, TRANSCRIBE, {"transcription_id": transcription.id}, now, key=f"transcribe:{attachment.id}")
    return transcription


def _voice(session: Session, transcription: Transcription) -> Voice:
    attachment = session.scalar(
        select(Attachment).where(Attachment.id == transcription.attachment_id).options(undefer(Attachment.data))
    )
    recognition = None
    if attachment.message_id is not None:
        message = session.get(Message, attachment.message_id)
        raw = (message.payload or {}).get("raw") or {} if message else {}
        recognition = raw.get("Recognition")
    return Voice(attachment.data, attachment.content_type, recognition)


def make_transcribe(backends: Callable[[], Sequence[Backend]], reader: Callable[[], Reader]) -> Handler:
    """The job: try each source; the first text wins and the ticket is read
    and routed. A failing service is retried by the job queue, and after
    ``MAX_ATTEMPTS`` the note goes to people."""

    def transcribe(session: Session, payload: dict[str, Any], now: datetime) -> None:
        transcription = session.get(Transcription, payload["transcription_id"])
        if transcription is None or transcription.status != PENDING:
            return  # done already (a person was quicker), or left to people
        voice = _voice(session, transcription)
        for backend in backends():
            try:
                text = backend.transcribe(voice)
            except TranscriptionFailed as exc:
                transcription.attempts += 1
                transcription.last_error = str(exc)[:2000]
                if transcription.attempts < MAX_ATTEMPTS:
                    session.commit()  # the count survives the retry
                    raise
                continue  # given up on this source: the next one, or people
            if text:
                apply_text(session, transcription, text, backend.name, None, now, reader())
                session.commit()
                return
        transcription.status = PERSON
        session.commit()

    return transcribe


def apply_text(
    session: Session,
    transcription: Transcription,
    text: str,
    source: str,
    actor: User | None,
    now: datetime,
    read: Reader,
) -> None:
    """A voice note's text has arrived: it becomes the ticket's text (or is
    added to it), and a ticket that had no text is read and routed."""
    text = text.strip()[:MAX_TEXT]
    transcription.text, transcription.source, transcription.status = text, source, DONE
    transcription.transcribed_by_id = actor.id if actor is not None else None
    transcription.done_at = now
    ticket = session.get(Ticket, transcription.ticket_id)
    had_text = bool(ticket.text.strip())
    ticket.text = f"{ticket.text}\n（语音）{text}" if had_text else text
    steps.record(
        session, ticket, "transcribe", actor, now,
        detail={"source": source, "attachment_id": transcription.attachment_id},
    )
    if not had_text and ticket.status in steps.UNROUTED:
        with session.no_autoflush:
            relabel(session, ticket, read(ticket.text, ticket.location_text), now)


def queue(session: Session, limit: int = 100) -> list[Transcription]:
    """Voice notes waiting for a person, oldest first; those no machine will
    transcribe before those a machine may still."""
    query = (
        select(Transcription)
        .where(Transcription.status.in_((PERSON, PENDING)))
        .order_by((Transcription.status == PERSON).desc(), Transcription.created_at, Transcription.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def of_ticket(session: Session, ticket_id: int) -> list[Transcription]:
    return list(session.scalars(select(Transcription).where(Transcription.ticket_id == ticket_id).order_by(Transcription.id)))
