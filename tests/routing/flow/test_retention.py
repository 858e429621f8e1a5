"""The retention job (存储期限): tickets closed in several years, each carrying
its own planted name, number, openid, address, ID number, caller address and
photo in every place intake and the workflow put them. After the job, no
value past its date is left in any text, JSON or binary column of any table
(searched by introspecting the metadata, not by a list of columns), those
within their date are all still there, and the scorecards of those years are
what they were."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

import pytest
from sqlalchemy import JSON, Enum, LargeBinary, String, Text, func, select

from routing.flow import callbacks, ratings, retention, steps, workflow
from routing.flow.inbound import Contact, Inbound, Labels, Location
from routing.flow.tickets import add_message, open_ticket
from routing.reports.scorecard import scorecard
from routing.store.access_log import REVEAL, AccessEntry, record_access
from routing.store.db import Base
from routing.store.idempotency import IdempotencyKey
from routing.store.imports import TicketImport
from routing.store.jobs import DONE, Job, Registry
from routing.store.retention import Schedule
from routing.store.tickets import Attachment, HistoricalTicket, Message, Status, Ticket, TicketEvent, Transcription


NOW = datetime(2027, 6, 1, 3, 0)
SCHEDULE = Schedule(contact_years=3, media_years=1, access_log_days=180)
YEARS = (2021, 2022, 2023, 2024, 2025, 2026, 2027)
# Closed in March: contact data goes for tickets closed before 2024-06-01,
# media before 2026-06-01, access-log entries before 2026-12-03.
CONTACT_GONE = {2021, 2022, 2023, 2024}
MEDIA_GONE = {2021, 2022, 2023, 2024, 2025, 2026}
NAMES = {2021: "甄英莲", 2022: "贾雨村", 2023: "冯紫英", 2024: "薛宝琴", 2025: "林黛玉", 2026: "史湘云", 2027: "妙玉尼"}


def planted(year: int | str) -> dict[str, str | bytes]:
    n = 2020 if year == "open" else year
    return {
        "name": "邢岫烟" if year == "open" else NAMES[year],
        "phone": f"139{n}5678",
        "other_phone": f"137{n}4321",
        "openid": f"oPLANT{year}openidXYZ",
        "address": f"{n}号7幢301室",
        "id_number": f"330106{n - 40}0101123X",
        "caller": f"198.51.100.{n - 2000}",
        "photo": f"PLANTED-PHOTO-{year}".encode(),
    }


def make_ticket(session, year: int | str, agency_staff, desk, closed: bool) -> Ticket:
    v = planted(year)
    created = datetime(2020 if year == "open" else year, 1, 10, 9)
    text = f"文三路路灯坏了，请回电{v['phone']}，身份证{v['id_number']}。"
    raw = {"FromUserName": v["openid"], "Content": text, "MsgId": f"7{created:%Y}"}
    ticket = open_ticket(
        session,
        Inbound(
            channel="wechat", text=text, payload={"type": "text", "raw": raw}, external_id=f"msg:7{year}",
            sender=v["openid"], contact=Contact(name=v["name"], phone=v["phone"]),
            location=Location(text=f"西湖区文三路{v['address']}", latitude=30.27912, longitude=120.12345),
        ),
        Labels(topic="城乡建设", confidence=0.9),
        created,
    )
    message = add_message(
        session, ticket,
        Inbound(channel="wechat", text=f"也可打{v['other_phone']}", external_id=f"msg:8{year}", sender=v["openid"],
                payload={"type": "image", "raw": {"FromUserName": v["openid"], "PicUrl": f"http://mmbiz/{v['openid']}"}}),
        created,
    )
    session.flush()
    photo = Attachment(ticket_id=ticket.id, message_id=message.id, kind="image", media_id=f"m-{v['openid']}",
                       url=f"http://mmbiz/{v['openid']}.jpg", title="photo.jpg", data=v["photo"], size=20,
                       created_at=created)
    voice = Attachment(ticket_id=ticket.id, kind="voice", data=v["photo"] + b"-voice", size=25, created_at=created)
    session.add_all([photo, voice])
    session.flush()
    session.add(Transcription(attachment_id=voice.id, ticket_id=ticket.id, status="done", source="person",
                              text=f"我的电话是{v['other_phone']}", attempts=0, created_at=created, done_at=created))
    session.add(IdempotencyKey(caller=v["caller"], key=f"k{year}", body_hash="0" * 64, ticket=ticket,
                               created_at=created))
    # The resident's subscription: a message that made no ticket, keyed by the sender.
    session.add(Message(channel="wechat", external_id=f"event:{v['openid']}:1:subscribe", sender=v["openid"],
                        payload={"type": "event", "raw": {"FromUserName": v["openid"]}}, received_at=created))
    session.add(HistoricalTicket(digest=f"{year}".ljust(64, "0"), text=f"热线来电{v['phone']}", agency_id=agency_staff.agency_id,
                                 created_at=created, source="hotline.xlsx", imported_at=created))
    session.add(TicketImport(file_name="hotline.xlsx", status="done", rows=1, figures={}, created_at=created,
                             content=f"{v['name']},{v['phone']}".encode(), finished_at=created))
    session.add(Job(kind="collector.notify_resident", payload={"ticket_id": ticket.id}, status=DONE, attempts=1,
                    max_attempts=3, run_after=created, created_at=created, finished_at=created,
                    last_error=f"refused {v['phone']}"))
    if not closed:
        return ticket
    answered, closing = datetime(created.year, 2, 1, 10), datetime(created.year, 3, 1, 10)
    workflow.accept(session, ticket, agency_staff, created)
    record_access(session, agency_staff, REVEAL, at=answered, address=v["caller"], ticket=ticket,
                  reason=f"回电{v['phone']}")
    workflow.answer(session, ticket, agency_staff, answered, f"已修复，已电话告知{v['phone']}。")
    if callbacks.pending(session, ticket) is not None:
        callbacks.record_try(session, ticket, desk, answered, reached=True, solved=True, satisfied=True,
                             said=f"满意，留个号{v['other_phone']}")
    ratings.rate(session, ticket, closing, "satisfied", comment=f"谢谢，{v['other_phone']}")
    return ticket


@pytest.fixture
def city(demo, housing_staff, dispatcher):
    tickets = {year: make_ticket(demo, year, housing_staff, dispatcher, closed=True) for year in YEARS}
    tickets["open"] = make_ticket(demo, "open", housing_staff, dispatcher, closed=False)
    demo.commit()
    return tickets


def _personal_columns():
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, (String, Text, JSON, LargeBinary)) and not isinstance(column.type, Enum):
                yield table, column


def everything(session) -> dict[str, list]:
    """Every text, JSON and binary value of every table, by table.column."""
    found = {}
    for table, column in _personal_columns():
        values = session.execute(select(column).where(column.is_not(None))).scalars()
        found[f"{table.name}.{column.name}"] = sorted(
            (json.dumps(v, ensure_ascii=False, sort_keys=True) if not isinstance(v, (str, bytes)) else v
             for v in values), key=repr,
        )
    return found


def where_found(values: dict[str, list], needle: str | bytes) -> list[str]:
    """The columns holding ``needle``; a text is looked for in binary columns as UTF-8 too."""
    as_bytes = needle.encode() if isinstance(needle, str) else needle
    return [
        column for column, items in values.items()
        if any((needle in item) if isinstance(item, type(needle)) else (as_bytes in item if isinstance(item, bytes)
               else False) for item in items)
    ]


def scorecards(session) -> dict[int, list[dict]]:
    return {
        year: [asdict(row) for row in scorecard(session, datetime(year, 1, 1), datetime(year + 1, 1, 1), NOW).rows]
        for year in YEARS
    }


def test_no_personal_data_past_its_date_remains_in_any_table_and_the_rest_is_kept(demo, city):
    before_cards = scorecards(demo)
    retention.apply_retention(demo, NOW, SCHEDULE)
    demo.commit()
    demo.expire_all()
    values = everything(demo)
    for year in (*YEARS, "open"):
        v = planted(year)
        contact = [v["name"], v["phone"], v["other_phone"], v["openid"], v["address"], v["id_number"], v["caller"]]
        for needle in contact:
            found = where_found(values, needle)
            if year in CONTACT_GONE:
                assert found == [], f"{year}: {needle} is still in {found}"
            else:
                assert found, f"{year}: {needle} was removed before its date"
        media = where_found(values, v["photo"])
        assert (media == []) == (year in MEDIA_GONE), f"{year}: photo bytes in {media}"
    assert scorecards(demo) == before_cards


def test_what_the_figures_count_stays_on_an_anonymised_ticket(demo, city):
    ticket = city[2021]
    retention.apply_retention(demo, NOW, SCHEDULE)
    demo.commit()
    demo.refresh(ticket)
    assert ticket.anonymised_at == NOW and ticket.contact_name is None and ticket.contact_phone is None
    assert (ticket.status, ticket.rating, ticket.topic, ticket.agency_id) == (Status.CLOSED, "satisfied", "城乡建设",
                                                                              city[2025].agency_id)
    assert ticket.location_text == "西湖区文三路***"
    assert (ticket.latitude, ticket.longitude) == (30.28, 120.12)
    assert "路灯坏了" in ticket.text and "139****5678" in ticket.text
    actions = [e.action for e in ticket.events]
    assert actions.count(retention.ANONYMISE) == 1 and actions.count(retention.REMOVE_MEDIA) == 1
    assert {"accept", "answer", "rate", "close"} <= set(actions)
    photos = demo.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)).all()
    assert [(a.kind, a.data, a.url, a.size) for a in photos] == [("image", None, None, 20), ("voice", None, None, 25)]


def test_a_dry_run_counts_what_would_go_and_changes_nothing(demo, city):
    before = everything(demo)
    report = retention.apply_retention(demo, NOW, SCHEDULE, dry_run=True)
    demo.commit()
    assert report.counts["tickets"] == len(CONTACT_GONE)
    assert report.counts["attachments"] == 2 * len(MEDIA_GONE)
    # The open ticket's subscription is as old as 2020's: five messages with no ticket.
    assert report.counts["messages"] == len(CONTACT_GONE) + 1
    assert report.counts["access_log"] == len(MEDIA_GONE)
    assert everything(demo) == before
    done = retention.apply_retention(demo, NOW, SCHEDULE)
    assert done.counts == report.counts


def test_a_second_run_finds_nothing_to_do(demo, city):
    retention.apply_retention(demo, NOW, SCHEDULE)
    demo.commit()
    after_first = everything(demo)
    events = demo.scalar(select(func.count()).select_from(TicketEvent))
    again = retention.apply_retention(demo, NOW, SCHEDULE)
    demo.commit()
    assert again.total == 0
    assert everything(demo) == after_first
    assert demo.scalar(select(func.count()).select_from(TicketEvent)) == events


def test_a_run_with_a_limit_leaves_the_rest_for_the_next(demo, city):
    first = retention.apply_retention(demo, NOW, SCHEDULE, batch=1, limit=2)
    assert first.counts["tickets"] == 2 and first.more
    rest = retention.apply_retention(demo, NOW, SCHEDULE, batch=1)
    assert rest.counts["tickets"] == len(CONTACT_GONE) - 2 and not rest.more


def test_the_access_log_keeps_what_is_younger_than_its_days(demo, city):
    retention.apply_retention(demo, NOW, SCHEDULE)
    demo.commit()
    left = demo.scalars(select(AccessEntry.at).order_by(AccessEntry.at)).all()
    assert left and all(at.year == 2027 for at in left)


def test_the_job_runs_nightly_and_schedules_the_next_night(demo, city):
    registry = Registry()
    retention.register_jobs(registry, SCHEDULE)
    retention.schedule_next(demo, NOW)
    demo.commit()
    queued = demo.scalar(select(Job).where(Job.kind == retention.RETENTION, Job.status != DONE))
    assert queued.run_after == datetime(2027, 6, 2, 3, 0)
    registry.handlers[retention.RETENTION](demo, {}, datetime(2027, 6, 2, 3, 0))
    demo.commit()
    assert demo.scalar(select(func.count()).select_from(Ticket).where(Ticket.anonymised_at.is_not(None))) == 4
    keys = set(demo.scalars(select(Job.key).where(Job.kind == retention.RETENTION)))
    assert {"retention:20270602", "retention:20270603"} <= keys


def test_a_ticket_reopened_after_the_cutoff_is_left_alone(demo, city, dispatcher):
    ticket = city[2022]
    workflow.reopen(demo, ticket, dispatcher, datetime(2022, 4, 1), "群众再次来电")
    steps.record(demo, ticket, "internal_note", None, datetime(2022, 4, 1), reason="重新办理")
    demo.commit()
    retention.apply_retention(demo, NOW, SCHEDULE)
    demo.commit()
    demo.refresh(ticket)
    assert ticket.anonymised_at is None and ticket.contact_phone == planted(2022)["phone"]
