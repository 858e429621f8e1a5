"""Who acts (单位与人员): agencies, staff accounts with their roles, and the
programs that call the API with a key of their own.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash

from routing.store.db import Base, enum_column
from routing.texts import N_

# argon2id with the library's recommended cost (RFC 9106's second choice).
PASSWORD_HASHER = PasswordHasher()
ARGON2_PREFIX = "$argon2"

if TYPE_CHECKING:  # relationships name these; the mapper finds them by name
    from routing.store.areas import District, Street


class Role(str, enum.Enum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"  # 分拨员 (liaison office / hotline centre)
    AGENCY = "agency"  # 承办单位工作人员, bound to one agency
    DEPUTY = "deputy"  # 人大代表

    @property
    def label(self) -> str:
        return {"admin": N_("管理员"), "dispatcher": N_("分拨员"), "agency": N_("承办单位"), "deputy": N_("人大代表")}[
            self.value
        ]


AGENCY_KINDS = {
    "bureau": N_("市级部门"),
    "district_government": N_("区政府"),
    "street_office": N_("街道办事处"),
    "utility": N_("公用事业单位"),
}


class Agency(Base):
    """承办单位: a body that must answer tickets."""

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # 简称, shown where space is short; none: the full name.
    short_name: Mapped[str | None] = mapped_column(String(32))
    # 类型: one of ``AGENCY_KINDS`` (bureau, district government, street office,
    # utility company); none for agencies set up before kinds were kept.
    kind: Mapped[str | None] = mapped_column(String(20))
    # Where its writ runs: none for a municipal bureau, a district for a district
    # government, a street for a street office.
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # 上级督办单位: receives the notices (通报) when this agency stays overdue —
    # a district government for its street offices, the municipal government
    # office for bureaus. None: the dispatcher centre alone follows it up.
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))

    # Named: the district names an agency too (its 兜底单位).
    district: Mapped[District | None] = relationship(foreign_keys=[district_id])
    street: Mapped[Street | None] = relationship()
    supervisor: Mapped[Agency | None] = relationship(remote_side=[id])


class User(Base):
    """A member of staff, a deputy, or an administrator."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The language of the pages for this person: "zh" (Simplified Chinese) or "en".
    locale: Mapped[str] = mapped_column(String(10), default="zh", server_default="zh")
    # Every session carries the version it was opened under; bumping it ends
    # them all on the server, also a session cookie someone kept.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set by an administrator's reset (a temporary password, 临时密码): until
    # the person chooses their own, the change-password page is all they reach.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # 手机号: how the administrator reaches them, e.g. to hand over a temporary password.
    mobile: Mapped[str | None] = mapped_column(String(20))
    # 企业微信 / 钉钉 UserID: whom a staff notice reaches in the city's office messenger.
    im_user_id: Mapped[str | None] = mapped_column(String(64))
    # 双重验证 (TOTP, routing/store/second_factor.py): the shared secret — never
    # logged nor in the change log —, when its first code was confirmed (until
    # then it is not asked at login), and the last time step a code was used in,
    # so a code seen over a shoulder cannot be used again.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # 导出个人信息: an administrator's grant to export residents' contact data
    # with the ticket list (routing/reports/contact_export.py); only the
    # centre's roles may hold it (``routing.store.privacy.CONTACT_EXPORT_ROLES``).
    may_export_contact: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    agency: Mapped[Agency | None] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = PASSWORD_HASHER.hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Log this person out everywhere (on logout and a new password; a
        deactivated account is refused at every request anyway)."""
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        """Whether ``password`` is this account's. A hash from before argon2
        (werkzeug's scrypt or pbkdf2) still verifies, and a right password
        replaces any hash made otherwise than today's hasher would (the caller
        commits); the sessions are left alone, the password being the same."""
        if self.password_hash.startswith(ARGON2_PREFIX):
            try:
                PASSWORD_HASHER.verify(self.password_hash, password)
            except (VerificationError, InvalidHashError):
                return False
            if PASSWORD_HASHER.check_needs_rehash(self.password_hash):
                self.password_hash = PASSWORD_HASHER.hash(password)
            return True
        if not check_password_hash(self.password_hash, password):
            return False
        self.password_hash = PASSWORD_HASHER.hash(password)
        return True

    @property
    def label(self) -> str:
        return f"{self.display_name}（{self.role.label}）"


class ApiClient(Base):
    """接口调用方: a program that calls the JSON API with its own key (a
    hotline system, a district's app). Only the key's SHA-256 is kept: the key
    is shown once, when issued. Its requests are counted against its own rate
    limit instead of the address it shares with others."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
