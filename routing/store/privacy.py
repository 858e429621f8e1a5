"""Personal data as staff see it (个人信息去标识化展示): one set of masks for
pages, exports, reports and messages to staff, and the rule who sees a
resident's contact data unmasked.

The masks follow the display practice of GB/T 35273 (去标识化 on screens and
in print): keep what lets staff recognise a record, never what lets them
reach the person.

- Phone (手机号/电话): the first three and the last four digits, ``138****5678``;
  shorter than eight digits, ``****``. A +86/86 prefix and spaces are dropped.
- Name (姓名): the surname (two characters for the common compound surnames,
  欧阳、司马…) and ``**``; a name that is only surname and 先生/女士 is kept as
  it is (``李女士``), as it says no more than the surname. A name in Latin
  letters keeps its first letter.
- ID number (身份证号): only the last four characters, ``**************1234``;
  the first six (the place of registration) and the birth date are hidden.
- Address (详细地址): kept up to the last district/street-level word (区、县、
  街道、镇、乡、路、街、巷、村…) before the first digit; the rest (number,
  building, room) becomes ``***``.

Every mask is idempotent: masking a masked value gives it back unchanged.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.store.deputies import Deputy, DeputySubmission
from routing.store.people import Role, User
from routing.store.tickets import Kind, Ticket

HIDDEN = "***"
HONORIFICS = ("先生", "女士", "小姐")
COMPOUND_SURNAMES = frozenset(
    {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙"}
    | {"宇文", "司徒", "夏侯", "轩辕", "令狐", "端木", "西门", "独孤", "南宫", "申屠"}
)
_ADDRESS_LEVELS = re.compile(r"(?:街道|社区|区|县|市|镇|乡|路|街|巷|道|村|里|胡同)")
# 检举: a complaint about an official or an agency, detected in the resident's
# words when the resident did not tick the box (see ``names_an_official``).
_AGAINST_OFFICIALS = re.compile(r"检举|举报.{0,12}(?:干部|公职人员|官员|领导|工作人员|单位|局长|书记|主任)")


def mask_phone(phone: str | None) -> str:
    """``13812345678`` → ``138****5678``."""
    compact = re.sub(r"[\s\-()]", "", phone or "")
    compact = compact.removeprefix("+86")
    if len(compact) == 13 and compact.startswith("86"):
        compact = compact[2:]
    return f"{compact[:3]}****{compact[-4:]}" if len(compact) >= 8 else "****"


def mask_name(name: str | None) -> str:
    """``李小明`` → ``李**``, ``欧阳娜娜`` → ``欧阳**``, ``李女士`` stays."""
    name = (name or "").strip()
    if not name:
        return ""
    surname = name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]
    if name[len(surname) :] in HONORIFICS:
        return name
    return f"{surname}**"


def mask_id_number(number: str | None) -> str:
    """``110101199001011234`` → ``**************1234``."""
    number = (number or "").strip()
    return "*" * max(len(number) - 4, 0) + number[-4:] if len(number) > 4 else "*" * len(number)


def mask_address(address: str | None) -> str:
    """``朝阳区建国路88号3号楼`` → ``朝阳区建国路***``."""
    address = (address or "").strip()
    if not address:
        return ""
    before_digits = re.split(r"[0-9０-９]", address, maxsplit=1)[0]
    ends = [match.end() for match in _ADDRESS_LEVELS.finditer(before_digits)]
    kept = before_digits[: ends[-1]] if ends else ""
    return kept + HIDDEN if kept != address else kept


def mask_text(text: str | None) -> str:
    """Free text (a note, a staff message) with every phone-like run of
    digits masked: a resident's number typed into a note is masked too."""
    return re.sub(r"(?:\+?86)?1\d{10}|\d{3,4}-\d{7,8}", lambda m: mask_phone(m.group()), text or "")


def names_an_official(text: str | None) -> bool:
    """检举: the resident reports an official or an agency — by the word 检举,
    or 举报 followed closely by an official or a unit."""
    return bool(_AGAINST_OFFICIALS.search(text or ""))


def confidential_by_rule(kind: Kind | None, text: str | None) -> bool:
    """A complaint (投诉举报) that names an official or an agency is 检举 and
    confidential whatever the resident ticked."""
    return kind in (None, Kind.COMPLAINT) and names_an_official(text)


def deputy_submitted(session: Session, user: User, ticket: Ticket) -> bool:
    """The deputy ``user`` raised ``ticket`` (代表反映) — their constituent's."""
    return (
        session.scalar(
            select(DeputySubmission.id)
            .join(Deputy, Deputy.id == DeputySubmission.deputy_id)
            .where(DeputySubmission.ticket_id == ticket.id, Deputy.user_id == user.id)
        )
        is not None
    )


def can_see_contact(
    user: User | None, ticket: Ticket, *, dispatcher_sees: bool = True, session: Session | None = None
) -> bool:
    """Whether ``user`` sees ``ticket``'s contact data unmasked (a domain rule).

    The centre (administrators; dispatchers unless the centre set
    ``DISPATCHER_SEES_CONTACT`` off) sees it; agency staff see it masked and
    may reveal it with a reason (``may_reveal``); the deputy who raised the
    ticket sees their constituent's. A confidential ticket (保密/检举) shows its
    contact to the centre only."""
    if user is None:
        return False
    if user.role is Role.ADMIN:
        return True
    if user.role is Role.DISPATCHER:
        return dispatcher_sees
    if ticket.confidential:
        return False
    if user.role is Role.DEPUTY and session is not None:
        return deputy_submitted(session, user, ticket)
    return False


def may_reveal(user: User | None, ticket: Ticket) -> bool:
    """Agency staff of the ticket's agency (or one assisting) may reveal its
    contact data with a stated reason, unless it is confidential."""
    if user is None or user.role is not Role.AGENCY or ticket.confidential:
        return False
    return user.agency_id == ticket.agency_id or any(a.id == user.agency_id for a in ticket.assisting)


# Roles that may hold the grant to export contact data: the centre's, which
# sees the contact anyway. Agency staff reveal one ticket's with a reason; a
# file of many would bypass that.
CONTACT_EXPORT_ROLES = (Role.ADMIN, Role.DISPATCHER)


def may_export_contact(user: User | None, *, dispatcher_sees: bool = True) -> bool:
    """Whether ``user`` may export residents' contact data (导出个人信息): an
    account of the centre that an administrator granted it to, and, for a
    dispatcher, a centre that lets dispatchers see contact data at all."""
    if user is None or not user.active or not user.may_export_contact:
        return False
    if user.role not in CONTACT_EXPORT_ROLES:
        return False
    return dispatcher_sees or user.role is Role.ADMIN


def contact_view(ticket: Ticket, visible: bool) -> dict[str, Any]:
    """The ticket's contact data as a page, a JSON answer or an export shows
    it: unmasked when ``visible``, masked otherwise."""
    if visible:
        return {"name": ticket.contact_name or "", "phone": ticket.contact_phone or "", "masked": False}
    return {
        "name": mask_name(ticket.contact_name),
        "phone": mask_phone(ticket.contact_phone) if ticket.contact_phone else "",
        "masked": True,
    }
