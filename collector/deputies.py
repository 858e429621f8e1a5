"""Deputies' submissions (代表反映): "a microphone for every deputy".

A deputy raises a matter in text, in a voice note, or both: passing on
constituents' complaint (转交群众意见) or as the deputy's own formal
suggestion (代表建议, with its longer deadline). Everything is checked before
anything is stored; a voice note is kept with the ticket and transcribed by a
job, and until its text arrives the ticket waits in triage, never lost.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload, undefer

from routing.flow.inbound import Contact, Inbound, Labels, Location
from routing.flow.tickets import open_ticket
from routing.store.accounts import password_problem
from routing.store.areas import Station
from routing.store.deputies import Deputy, DeputyLevel, DeputyNotice, DeputyStation, DeputySubmission
from routing.store.people import Role, User
from routing.store.tickets import Attachment, Kind, Ticket
from routing.texts import N_

from . import audio, transcription
from .submissions import MAX_LOCATION, MAX_TEXT, SubmissionError
from .transcription import Reader

CHANNEL = "deputy"
MODES = {"complaint": "转交群众意见", "suggestion": "代表建议"}
VOICE_WAITING = "语音待转写"
MAX_CONSTITUENTS = 100000


@dataclass(frozen=True)
class VoiceUpload:
    data: bytes
    filename: str | None = None


@dataclass(frozen=True)
class DeputyInput:
    """What the portal's form sends, before checking."""

    text: str = ""
    mode: str = "complaint"
    constituents: int = 1
    place: str = ""
    station_id: int | None = None
    voice: VoiceUpload | None = None


@dataclass(frozen=True)
class Limits:
    max_seconds: float = 600
    max_bytes: int = 20 * 1024 * 1024


def deputy_of(session: Session, user: User) -> Deputy | None:
    return session.scalar(select(Deputy).where(Deputy.user_id == user.id).options(selectinload(Deputy.stations)))


def _check(deputy: Deputy, given: DeputyInput, limits: Limits) -> tuple[str, Station | None, audio.Audio | None]:
    """The checks a submission must pass; ``SubmissionError`` names the field."""
    text = (given.text or "").strip()
    if len(text) > MAX_TEXT:
        raise SubmissionError("text", N_("文字太长（%(length)s 字），请控制在 %(limit)s 字以内。"), length=len(text), limit=MAX_TEXT)
    if given.mode not in MODES:
        raise SubmissionError("mode", N_("请选择“转交群众意见”或“代表建议”。"))
    if not 1 <= given.constituents <= MAX_CONSTITUENTS:
        raise SubmissionError("constituents", N_("反映人数应为 1 以上的整数。"))
    if len(given.place or "") > MAX_LOCATION:
        raise SubmissionError("place", N_("地点请控制在 %(limit)s 字以内。"), limit=MAX_LOCATION)
    station = None
    if given.station_id is not None:
        station = next((s for s in deputy.stations if s.id == given.station_id), None)
        if station is None:
            raise SubmissionError("station", N_("请选择您所在的联络站。"))
    voice = None
    if given.voice is not None:
        try:
            voice = audio.inspect(given.voice.data, max_seconds=limits.max_seconds, max_bytes=limits.max_bytes)
        except audio.AudioError as exc:
            raise SubmissionError("voice", exc.template, **exc.values) from exc
    if not text and voice is None:
        raise SubmissionError("text", N_("请写下反映的内容，或录一段语音。"))
    if text and voice is None and len(text) < 5:
        raise SubmissionError("text", N_("内容太短，请说清楚问题和地点。"))
    return text, station, voice


def submit(
    session: Session, deputy: Deputy, given: DeputyInput, read: Reader, now: datetime, limits: Limits = Limits()
) -> Ticket:
    """Check, then store the ticket, its voice note and the submission; commits.
    Bad input raises ``SubmissionError`` and stores nothing."""
    text, station, voice = _check(deputy, given, limits)
    place = (given.place or "").strip() or None
    kind = Kind.DEPUTY_SUGGESTION if given.mode == "suggestion" else None
    if text:
        labels = read(text, place)
    else:
        labels = Labels(needs_triage=True, triage_reason=VOICE_WAITING)
    if kind is not None:
        labels = replace(labels, kind=kind)
    inbound = Inbound(
        channel=CHANNEL,
        text=text,
        sender=f"deputy:{deputy.id}",
        station=station,
        contact=Contact(name=deputy.name),
        location=Location(text=place),
        payload={"mode": given.mode, "constituents": given.constituents, "voice": voice is not None},
    )
    ticket = open_ticket(session, inbound, labels, now)
    session.add(
        DeputySubmission(
            ticket_id=ticket.id, deputy_id=deputy.id, station_id=station.id if station else None,
            mode=given.mode, constituents=given.constituents, place=place, created_at=now,
        )
    )
    if voice is not None:
        attachment = Attachment(
            ticket_id=ticket.id, message_id=None, kind="voice", content_type=voice.content_type,
            title=(given.voice.filename or "")[:200] or None, data=given.voice.data, size=len(given.voice.data),
            created_at=now, downloaded_at=now,
        )
        session.add(attachment)
        session.flush()
        transcription.request(session, attachment, now)
    session.commit()
    return ticket


# -- following up --------------------------------------------------------------


def submissions_of(session: Session, deputy: Deputy) -> list[DeputySubmission]:
    """Everything a deputy raised, newest first."""
    query = (
        select(DeputySubmission)
        .where(DeputySubmission.deputy_id == deputy.id)
        .order_by(DeputySubmission.id.desc())
        .options(selectinload(DeputySubmission.ticket).selectinload(Ticket.agency))
    )
    return list(session.scalars(query))


def submission_of_ticket(session: Session, deputy: Deputy, number: str) -> DeputySubmission | None:
    """The deputy's own submission with this ticket number; None for anyone else's."""
    query = (
        select(DeputySubmission)
        .join(Ticket, Ticket.id == DeputySubmission.ticket_id)
        .where(DeputySubmission.deputy_id == deputy.id, Ticket.number == number)
    )
    return session.scalar(query)


def voice_notes(session: Session, ticket: Ticket) -> list[Attachment]:
    """The ticket's voice notes that are here to play (回放), oldest first; their bytes stay unloaded."""
    query = (
        select(Attachment)
        .where(Attachment.ticket_id == ticket.id, Attachment.kind == "voice", Attachment.data.is_not(None))
        .order_by(Attachment.id)
    )
    return list(session.scalars(query))


def voice_note(session: Session, ticket: Ticket, attachment_id: int) -> Attachment | None:
    """One of the ticket's voice notes with its bytes, or None when it is not this ticket's."""
    query = (
        select(Attachment)
        .where(Attachment.id == attachment_id, Attachment.ticket_id == ticket.id, Attachment.kind == "voice")
        .options(undefer(Attachment.data))
    )
    return session.scalar(query)


def station_submissions(session: Session, station: Station) -> list[DeputySubmission]:
    """What came through a liaison station, newest first."""
    query = (
        select(DeputySubmission)
        .where(DeputySubmission.station_id == station.id)
        .order_by(DeputySubmission.id.desc())
        .options(selectinload(DeputySubmission.ticket), selectinload(DeputySubmission.deputy))
    )
    return list(session.scalars(query))


def is_late(ticket: Ticket, now: datetime) -> bool:
    """超期: not accepted or not answered by its deadline (counting an answer given late too)."""
    if ticket.accept_by and (ticket.accepted_at or now) > ticket.accept_by and ticket.agency_id is not None:
        return True
    return bool(ticket.answer_by and (ticket.answered_at or now) > ticket.answer_by)


# -- notices (代表通知) -----------------------------------------------------------


def unread_notices(session: Session, deputy: Deputy) -> list[DeputyNotice]:
    """What the deputy has not read yet: answers that came, deadlines that passed; newest first."""
    query = (
        select(DeputyNotice)
        .where(DeputyNotice.deputy_id == deputy.id, DeputyNotice.read_at.is_(None))
        .order_by(DeputyNotice.id.desc())
        .options(selectinload(DeputyNotice.ticket))
    )
    return list(session.scalars(query))


def mark_read(session: Session, deputy: Deputy, ticket: Ticket, now: datetime) -> int:
    """Opening a ticket reads its notices; returns how many. Commits."""
    result = session.execute(
        update(DeputyNotice)
        .where(DeputyNotice.deputy_id == deputy.id, DeputyNotice.ticket_id == ticket.id, DeputyNotice.read_at.is_(None))
        .values(read_at=now)
    )
    session.commit()
    return result.rowcount


# -- accounts ----------------------------------------------------------------------


def add_deputy(
    session: Session, user: User, name: str, level: DeputyLevel, stations: list[Station]
) -> Deputy:
    """Make a deputy of a user account (role 人大代表) serving at ``stations``."""
    if user.role is not Role.DEPUTY:
        raise ValueError(f"{user.username} 不是人大代表账号")
    deputy = session.scalar(select(Deputy).where(Deputy.user_id == user.id))
    if deputy is None:
        deputy = Deputy(user_id=user.id, name=name, level=level)
        session.add(deputy)
        session.flush()
    deputy.name, deputy.level = name, level
    known = set(session.scalars(select(DeputyStation.station_id).where(DeputyStation.deputy_id == deputy.id)))
    for station in stations:
        if station.id not in known:
            session.add(DeputyStation(deputy_id=deputy.id, station_id=station.id))
    return deputy


def serves(deputy: Deputy | None, station: Station) -> bool:
    return deputy is not None and any(s.id == station.id for s in deputy.stations)


LEVELS = {"省": DeputyLevel.PROVINCE, "市": DeputyLevel.CITY, "区": DeputyLevel.DISTRICT, "县": DeputyLevel.DISTRICT}


def login_exists(session: Session, username: str) -> bool:
    return session.scalar(select(User.id).where(User.username == username)) is not None


def register(session: Session, username: str, name: str, level: str, station_names: list[str], password: str | None) -> Deputy:
    """A deputy's login and profile (the CLI's ``deputy add``); an existing
    deputy login gets the new name, level and any further stations. Commits."""
    if level not in LEVELS:
        raise ValueError(f"代表层级应为 省、市 或 区，不是“{level}”")
    stations = list(session.scalars(select(Station).where(Station.name.in_(station_names))))
    unknown = sorted(set(station_names) - {s.name for s in stations})
    if unknown:
        raise ValueError(f"没有这些联络站：{'、'.join(unknown)}")
    problem = password and password_problem(password, username, name)
    if problem:
        raise ValueError(problem)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        if not password:
            raise ValueError("新账号需要密码")
        user = User(username=username, display_name=name, role=Role.DEPUTY)
        user.set_password(password)
        session.add(user)
        session.flush()
    elif password:
        user.set_password(password)
    deputy = add_deputy(session, user, name, LEVELS[level], stations)
    session.commit()
    return deputy


# -- binding a deputy's WeChat account -------------------------------------------------

BIND_MINUTES = 10
BIND_COMMAND = re.compile(r"^\s*绑定\s*(\d{6})\s*$")


def new_bind_code(session: Session, deputy: Deputy, now: datetime) -> str:
    """A six-digit code, valid ``BIND_MINUTES``, that the deputy sends to the
    official account as “绑定 123456” to bind their WeChat account. Commits."""
    while True:
        code = f"{secrets.randbelow(1_000_000):06d}"
        taken = session.scalar(
            select(Deputy.id).where(Deputy.bind_code == code, Deputy.bind_code_expires > now, Deputy.id != deputy.id)
        )
        if taken is None:
            break
    deputy.bind_code, deputy.bind_code_expires = code, now + timedelta(minutes=BIND_MINUTES)
    session.commit()
    return code


def bind_wechat(session: Session, code: str, openid: str, now: datetime) -> Deputy | None:
    """Bind the WeChat account that sent a valid code; the code works once.
    The caller commits (with the message that carried it)."""
    deputy = session.scalar(select(Deputy).where(Deputy.bind_code == code, Deputy.bind_code_expires > now))
    if deputy is None:
        return None
    previous = session.scalar(select(Deputy).where(Deputy.wechat_openid == openid, Deputy.id != deputy.id))
    if previous is not None:
        previous.wechat_openid = None  # one WeChat account speaks for one deputy
        session.flush()
    deputy.wechat_openid, deputy.bind_code, deputy.bind_code_expires = openid, None, None
    return deputy


def deputy_of_wechat(session: Session, openid: str) -> Deputy | None:
    return session.scalar(select(Deputy).where(Deputy.wechat_openid == openid).options(selectinload(Deputy.stations)))


def record_wechat_submission(session: Session, deputy: Deputy, ticket: Ticket, now: datetime) -> None:
    """A bound deputy's new WeChat ticket is their submission: listed in their
    portal, at their station when they serve only one."""
    station = deputy.stations[0] if len(deputy.stations) == 1 else None
    ticket.contact_name = deputy.name
    if station is not None and ticket.station_id is None:
        ticket.station_id = station.id
    session.add(
        DeputySubmission(
            ticket_id=ticket.id, deputy_id=deputy.id, station_id=station.id if station else None,
            mode="complaint", constituents=1, place=None, created_at=now,
        )
    )
