"""答复附件: an agency answers with photos or a PDF (the repaired lamp, the
notice it cites); the resident sees them on the status page with the code,
once the answer has reached them — a merged ticket's resident too — and
nobody without the code or the right to the ticket does."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from routing.store.answering import ReviewRule
from routing.store.people import Agency
from routing.store.tickets import Attachment, Status

from ..conftest import post_form
from ..helpers import agency_login, ticket
from .test_flow import submit_on_the_station_page

ANSWER = "路灯已于今日修复，现场照片和检修单附后。"
# The smallest PNG there is, and the start of a PDF: files as far as their bytes go.
PNG = b"\x89PNG\r\n\x1a\n" + bytes.fromhex(
    "0000000d49484452000000010000000108060000001f15c4890000000d4944415478da6360000002000154a24f5d0000000049454e44ae426082"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def accepted(client, auth, demo):
    number, code = submit_on_the_station_page(client, demo)
    auth.login(agency_login(demo, ticket(demo, number).agency))
    page = f"/agency/tickets/{number}"
    post_form(client, f"{page}/accept", {}, page=page)
    return number, code, page


def answer_with(client, number, page, *files, text=ANSWER, **fields):
    data = {"answer": text, **fields, "files": [(io.BytesIO(body), name) for body, name in files]}
    return post_form(client, f"{page}/answer", data, page=page, content_type="multipart/form-data",
                     follow_redirects=True)


def files_of(demo, number) -> list[Attachment]:
    demo.expire_all()
    return list(demo.scalars(select(Attachment).where(Attachment.ticket_id == ticket(demo, number).id,
                                                      Attachment.kind == "answer").order_by(Attachment.id)))


def test_the_resident_sees_the_photo_and_document_the_agency_answered_with(client, auth, demo):
    number, code, page = accepted(client, auth, demo)
    assert 'enctype="multipart/form-data"' in client.get(page).get_data(as_text=True)
    done = answer_with(client, number, page, (PNG, "修好的路灯.png"), (PDF, "检修单.pdf"))
    assert "已答复" in done.get_data(as_text=True)
    photo, document = files_of(demo, number)
    assert (photo.content_type, document.content_type, document.title) == ("image/png", "application/pdf", "检修单.pdf")
    assert ticket(demo, number).events[-1].detail["files"][0]["id"] == photo.id
    # The agency sees them on its own page.
    staff_page = client.get(page).get_data(as_text=True)
    assert f"/photos/{number}/answer/{photo.id}" in staff_page and "检修单.pdf" in staff_page
    assert client.get(f"/photos/{number}/answer/{photo.id}").data == PNG
    auth.logout()

    status = client.get(f"/status/{number}?code={code}").get_data(as_text=True)
    photo_url = f"/status/{number}/files/{photo.id}?code={code}"
    assert photo_url in status and "检修单.pdf" in status
    shown = client.get(photo_url)
    assert (shown.status_code, shown.mimetype, shown.data) == (200, "image/png", PNG)
    assert "no-store" in shown.headers["Cache-Control"] and shown.headers["X-Content-Type-Options"] == "nosniff"
    pdf = client.get(f"/status/{number}/files/{document.id}?code={code}")
    assert pdf.mimetype == "application/pdf" and pdf.headers["Content-Disposition"].startswith("attachment")
    # The public API, without the code, carries no files.
    public = client.get(f"/api/v1/tickets/{number}").get_json()
    assert all("files" not in a for a in public.get("answers", []))


def test_without_the_code_or_through_another_ticket_nothing_is_shown(client, auth, demo):
    number, code, page = accepted(client, auth, demo)
    answer_with(client, number, page, (PNG, "现场.png"))
    (photo,) = files_of(demo, number)
    auth.logout()
    assert client.get(f"/status/{number}/files/{photo.id}?code=WRONGCODE").status_code == 404
    assert client.get(f"/status/{number}/files/{photo.id}").status_code == 404
    other, other_code = submit_on_the_station_page(client, demo, text="文新街道学院路的人行道砖松动了，下雨踩上去溅一身水。")
    assert client.get(f"/status/{other}/files/{photo.id}?code={other_code}").status_code == 404
    # Nor to another agency's staff.
    elsewhere = demo.scalars(select(Agency).where(Agency.id != ticket(demo, number).agency_id)).first()
    auth.login(agency_login(demo, elsewhere))
    assert client.get(f"/photos/{number}/answer/{photo.id}").status_code == 404


def test_a_file_that_is_neither_a_photo_nor_a_pdf_is_refused_and_nothing_is_kept(client, auth, demo):
    number, _, page = accepted(client, auth, demo)
    refused = answer_with(client, number, page, (PNG, "ok.png"), (b"MZ\x90\x00 a program", "修好的路灯.jpg"))
    assert "答复只能附照片" in refused.get_data(as_text=True)
    assert files_of(demo, number) == [] and ticket(demo, number).status is Status.ACCEPTED
    too_many = answer_with(client, number, page, *[(PNG, f"{i}.png") for i in range(4)])
    assert "答复最多附 3 个照片或文件" in too_many.get_data(as_text=True)
    assert files_of(demo, number) == [] and ticket(demo, number).status is Status.ACCEPTED


@pytest.mark.parametrize("app_config", [{"PHOTO_MAX_BYTES": 1000}])
def test_a_file_over_the_limit_is_refused_and_far_over_it_the_request_is(client, auth, demo):
    number, _, page = accepted(client, auth, demo)
    over = PNG + bytes(2000)
    refused = answer_with(client, number, page, (over, "现场.png"))
    assert "附件太大" in refused.get_data(as_text=True)
    assert files_of(demo, number) == [] and ticket(demo, number).status is Status.ACCEPTED
    # Three files' worth and the form around them is the most the request may carry.
    # (Under the test client's 500 kB spooling threshold, which would leave a temporary file open.)
    huge = PNG + bytes(300_000)
    response = answer_with(client, number, page, (huge, "大.png"))
    assert response.status_code == 413 and "MB 以内" in response.get_data(as_text=True)
    assert files_of(demo, number) == [] and ticket(demo, number).status is Status.ACCEPTED


def test_a_file_waiting_for_review_is_shown_only_once_approved(client, auth, demo):
    number, code = submit_on_the_station_page(client, demo)
    t = ticket(demo, number)
    demo.add(ReviewRule(kind=None, agency_id=t.agency_id, review=True, require_signer=False, active=True))
    demo.commit()
    auth.login(agency_login(demo, t.agency))
    page = f"/agency/tickets/{number}"
    post_form(client, f"{page}/accept", {}, page=page)
    answer_with(client, number, page, (PNG, "现场.png"))
    (photo,) = files_of(demo, number)
    auth.logout()
    url = f"/status/{number}/files/{photo.id}?code={code}"
    assert client.get(url).status_code == 404 and url not in client.get(f"/status/{number}?code={code}").get_data(as_text=True)
    auth.login("dispatcher")
    # The reviewer sees what the resident will.
    assert f"/photos/{number}/answer/{photo.id}" in client.get("/desk/reviews").get_data(as_text=True)
    assert client.get(f"/photos/{number}/answer/{photo.id}").data == PNG
    post_form(client, f"/desk/tickets/{number}/review/approve", {"reason": ""}, page="/desk/reviews")
    auth.logout()
    assert client.get(url).data == PNG


def test_a_merged_tickets_resident_sees_the_files_of_the_answer_they_were_given(client, auth, demo):
    first, _ = submit_on_the_station_page(client, demo)
    second, second_code = submit_on_the_station_page(client, demo, phone="13900000000")
    auth.login("dispatcher")
    post_form(client, f"/desk/tickets/{second}/merge", {"into": first}, page=f"/desk/tickets/{second}")
    auth.logout()
    assert ticket(demo, second).status is Status.MERGED
    auth.login(agency_login(demo, ticket(demo, first).agency))
    page = f"/agency/tickets/{first}"
    post_form(client, f"{page}/accept", {}, page=page)
    answer_with(client, first, page, (PNG, "现场.png"))
    (photo,) = files_of(demo, first)
    auth.logout()
    url = f"/status/{second}/files/{photo.id}?code={second_code}"
    assert url in client.get(f"/status/{second}?code={second_code}").get_data(as_text=True)
    assert client.get(url).data == PNG
    assert demo.scalar(select(func.count()).select_from(Attachment).where(Attachment.kind == "answer")) == 1
