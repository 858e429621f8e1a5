"""Exports with residents' contact data (导出个人信息): a permission of their
own that administrators grant, capped in rows, in the access log with the
filter and the count, and a file that says who exported it and when."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

import admin.ticket_list
from routing.store.access_log import AccessEntry
from routing.store.audit import changes
from routing.store.people import User
from routing.store.tickets import Status, Ticket

from ..conftest import post_form
from ..helpers import agency_login

NAME, PHONE, ADDRESS = "李小明", "13912345678", "西湖区文三路88号3幢"
SECRET_NAME, SECRET_PHONE = "王秘密", "13700001111"
AT = datetime(2026, 12, 4, 10, 0)
CONTACTS = "/tickets/export-contacts"


@pytest.fixture
def planted(demo, monkeypatch):
    """Two assigned tickets with contact data, one of them confidential; the export's clock at ``AT``."""
    monkeypatch.setattr(admin.ticket_list, "now", lambda: AT)
    first, second = demo.scalars(
        select(Ticket).where(Ticket.status == Status.ASSIGNED).order_by(Ticket.id).limit(2)
    ).all()
    first.contact_name, first.contact_phone, first.location_text = NAME, PHONE, ADDRESS
    second.contact_name, second.contact_phone, second.confidential = SECRET_NAME, SECRET_PHONE, True
    demo.commit()
    return first, second


def grant(session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    user.may_export_contact = True
    session.commit()
    return user


def export_entries(session) -> list[AccessEntry]:
    session.expire_all()
    return list(session.scalars(select(AccessEntry).where(AccessEntry.action == "export").order_by(AccessEntry.id)))


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


# Who may export contact data: the centre's roles, and only with the grant. An
# agency's account with the flag set in the database is refused all the same.
MATRIX = [
    ("admin", True, 200),
    ("admin", False, 403),
    ("dispatcher", True, 200),
    ("dispatcher", False, 403),
    ("agency", True, 403),
    ("agency", False, 403),
    ("deputy", True, 403),
    ("deputy", False, 403),
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(("role", "granted", "status"), MATRIX)
def test_only_granted_centre_accounts_export_contact_data_and_each_export_is_logged(
    client, auth, demo, planted, role, granted, status, fmt
):
    first, _ = planted
    username = agency_login(demo, first.agency) if role == "agency" else role
    if granted:
        grant(demo, username)
    auth.login(username)

    response = client.get(f"{CONTACTS}.{fmt}")

    assert response.status_code == status
    body = response.get_data()
    entries = export_entries(demo)
    if status != 200:
        assert PHONE.encode() not in body and entries == []
        return
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert len(entries) == 1 and entries[0].user.username == username
    assert entries[0].detail == {"report": "tickets_contact", "format": fmt, "filter": {}}
    assert entries[0].rows == demo.scalar(select(func.count(Ticket.id)))


def test_the_plain_export_stays_without_contact_data_and_unlogged(client, auth, demo, planted):
    grant(demo, "dispatcher")
    auth.login("dispatcher")
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/tickets/export.{fmt}")
        assert response.status_code == 200
        assert PHONE.encode() not in response.get_data()
    assert export_entries(demo) == []
    assert read_csv(client.get("/tickets/export.csv"))[0][0] == "工单号"


def test_the_csv_names_its_exporter_first_and_masks_only_the_confidential_ticket(client, auth, demo, planted):
    first, second = planted
    grant(demo, "dispatcher")
    auth.login("dispatcher")

    lines = read_csv(client.get(f"{CONTACTS}.csv"))

    total = demo.scalar(select(func.count(Ticket.id)))
    assert lines[0] == [f"# 导出人：分拨中心值班员（dispatcher） 导出时间：2026-12-04 10:00 共 {total} 条"]
    header, rows = lines[1], {row[0]: row for row in lines[2:]}
    assert header[-3:] == ["联系人", "联系电话", "地址"] and len(rows) == total
    assert rows[first.number][-3:] == [NAME, PHONE, ADDRESS]
    # 保密: the file travels further than a page, so the confidential contact stays masked.
    assert rows[second.number][-3:-1] == ["王**", "137****1111"]
    assert SECRET_PHONE not in str(lines)


def test_the_xlsx_carries_its_exporter_in_the_properties_and_above_the_table(client, auth, demo, planted):
    first, _ = planted
    grant(demo, "admin")
    auth.login("admin")

    workbook = load_workbook(io.BytesIO(client.get(f"{CONTACTS}.xlsx").get_data()))

    total = demo.scalar(select(func.count(Ticket.id)))
    line = f"导出人：系统管理员（admin） 导出时间：2026-12-04 10:00 共 {total} 条"
    assert workbook.properties.creator == "系统管理员（admin）"
    assert workbook.properties.description == line and workbook.properties.created == AT
    sheet = workbook.active
    assert sheet["A1"].value == line and sheet["A2"].value == "工单号"
    assert sheet.freeze_panes == "A3" and sheet.auto_filter.ref.startswith("A2:")
    header = [cell.value for cell in sheet[2]]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert rows[first.number][header.index("联系电话")] == PHONE
    assert rows[first.number][header.index("联系人")] == NAME


def test_over_the_cap_the_export_is_refused_with_a_request_to_narrow_the_filter(app, client, auth, demo, planted):
    grant(demo, "dispatcher")
    auth.login("dispatcher")
    total = demo.scalar(select(func.count(Ticket.id)))
    assigned = demo.scalar(select(func.count(Ticket.id)).where(Ticket.status == Status.ASSIGNED))
    assert 0 < assigned < total
    app.config["EXPORT_MAX_ROWS"] = assigned

    refused = client.get(f"{CONTACTS}.csv?sort=status", follow_redirects=True)

    # Back on the list as it was sorted, told why: nothing cut short, nothing logged.
    page = refused.get_data(as_text=True)
    assert refused.request.path == "/tickets/" and refused.request.args.to_dict() == {"sort": "status", "dir": "asc"}
    message = f"符合条件的工单有 {total} 件，超过导出个人信息的上限 {assigned} 件，请缩小筛选范围后再导出。"
    assert message in page and PHONE not in page
    assert export_entries(demo) == []

    narrowed = client.get(f"{CONTACTS}.csv?status=assigned")
    assert narrowed.status_code == 200 and len(read_csv(narrowed)) == 2 + assigned
    (entry,) = export_entries(demo)
    assert entry.rows == assigned and entry.detail["filter"] == {"status": "assigned"}


def test_a_narrower_filter_under_the_cap_exports_and_the_log_keeps_the_filter(app, client, auth, demo, planted):
    first, _ = planted
    grant(demo, "dispatcher")
    auth.login("dispatcher")
    app.config["EXPORT_MAX_ROWS"] = 1

    response = client.get(f"{CONTACTS}.csv?words={first.text[:12]}&agency={first.agency_id}")

    assert response.status_code == 200
    lines = read_csv(response)
    assert lines[0][0].endswith("共 1 条") and lines[2][0] == first.number
    (entry,) = export_entries(demo)
    assert entry.rows == 1 and entry.address == "127.0.0.1"
    assert entry.detail["filter"] == {"agency_id": first.agency_id, "words": first.text[:12]}


def test_a_centre_that_hides_contacts_from_dispatchers_refuses_their_export(app, client, auth, demo, planted):
    grant(demo, "dispatcher")
    app.config["DISPATCHER_SEES_CONTACT"] = False
    auth.login("dispatcher")
    assert client.get(f"{CONTACTS}.csv").status_code == 403
    assert "导出含个人信息" not in client.get("/tickets/").get_data(as_text=True)


def test_the_list_offers_the_contact_export_only_to_those_granted_it(client, auth, demo, planted):
    auth.login("dispatcher")
    assert "导出含个人信息" not in client.get("/tickets/").get_data(as_text=True)
    grant(demo, "dispatcher")
    page = client.get("/tickets/").get_data(as_text=True)
    assert "导出含个人信息" in page and f'href="{CONTACTS}.csv"' in page and "每次最多 2000 件" in page


def test_administrators_grant_and_withdraw_the_permission_in_the_change_log(client, auth, demo, planted):
    dispatcher = demo.scalar(select(User).where(User.username == "dispatcher"))
    page = f"/admin/accounts/{dispatcher.id}"
    auth.login("admin")

    granted = post_form(client, f"{page}/contact-export/grant", {}, page=page, follow_redirects=True)
    assert "已授予导出个人信息的权限。" in granted.get_data(as_text=True)
    again = post_form(client, f"{page}/contact-export/grant", {}, page=page, follow_redirects=True)
    assert "已有导出个人信息的权限" in again.get_data(as_text=True)
    withdrawn = post_form(client, f"{page}/contact-export/revoke", {}, page=page, follow_redirects=True)
    assert "已收回导出个人信息的权限。" in withdrawn.get_data(as_text=True)
    assert "收回导出个人信息权限" in withdrawn.get_data(as_text=True)

    demo.expire_all()
    log = changes(demo, "account", dispatcher.id)
    assert [c.action for c in log] == ["export_revoke", "export_grant"]
    assert log[1].before["may_export_contact"] is False and log[1].after["may_export_contact"] is True
    assert log[1].actor_id == demo.scalar(select(User.id).where(User.username == "admin"))
    assert demo.get(User, dispatcher.id).may_export_contact is False


def test_an_agency_account_cannot_be_granted_and_loses_the_grant_when_moved_to_an_agency(client, auth, demo, planted):
    first, _ = planted
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, first.agency)))
    auth.login("admin")
    page = f"/admin/accounts/{staff.id}"
    refused = post_form(client, f"{page}/contact-export/grant", {}, page="/admin/accounts/", follow_redirects=True)
    assert "只有管理员和分拨员的账号可以获得导出个人信息的权限。" in refused.get_data(as_text=True)
    demo.expire_all()
    assert demo.get(User, staff.id).may_export_contact is False and changes(demo, "account", staff.id) == []

    dispatcher = grant(demo, "dispatcher")
    form = {"display_name": dispatcher.display_name, "role": "agency", "agency": str(first.agency_id)}
    post_form(client, f"/admin/accounts/{dispatcher.id}", form, page=f"/admin/accounts/{dispatcher.id}")
    demo.expire_all()
    assert demo.get(User, dispatcher.id).may_export_contact is False
    assert changes(demo, "account", dispatcher.id)[0].after["may_export_contact"] is False


def test_anonymous_visitors_are_sent_to_log_in(client, demo):
    response = client.get(f"{CONTACTS}.csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
