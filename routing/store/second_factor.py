"""The second factor (双重验证): a time-based one-time code (TOTP, RFC 6238)
from an authenticator app, asked after the password.

A person begins (a new secret, shown once as a key and an ``otpauth://`` URI),
confirms with a first code, and from then on is asked a code at every login.
They turn it off with their password and a code; an administrator resets it
for someone who lost their phone (change log entry, never the secret). A code
is accepted in its 30-second step or the one either side (clocks drift), and
only once: the step it was used in is kept, and a code of that step or an
earlier one is refused.
"""

from __future__ import annotations

from datetime import datetime

import pyotp
from sqlalchemy.orm import Session

from routing.clock import CITY_TZ
from routing.store.accounts import SUBJECT, AccountError
from routing.store.audit import audit
from routing.store.people import Role, User
from routing.texts import N_

ISSUER = "听见 Tingjian"
# One step either side: a phone's clock a little off still logs in.
VALID_WINDOW = 1


def parse_roles(value: str | None) -> frozenset[Role]:
    """The roles of the setting SECOND_FACTOR_ROLES ("admin,dispatcher"); a role not known is an error."""
    roles = set()
    for name in (value or "").split(","):
        if name.strip():
            try:
                roles.add(Role(name.strip()))
            except ValueError:
                raise ValueError(f"SECOND_FACTOR_ROLES: 没有“{name.strip()}”这个角色") from None
    return frozenset(roles)


def has_second_factor(user: User) -> bool:
    return user.totp_secret is not None and user.totp_confirmed_at is not None


def needs_setup(user: User, required: frozenset[Role]) -> bool:
    """A person whose role must have a second factor and who has none confirmed yet."""
    return user.role in required and not has_second_factor(user)


def begin(user: User) -> str:
    """A new secret for ``user`` (not asked at login until confirmed); the caller commits."""
    if has_second_factor(user):
        raise AccountError(N_("已开启双重验证；如需更换，请先关闭。"))
    user.totp_secret = pyotp.random_base32()
    user.totp_confirmed_at = None
    user.totp_last_step = None
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    """The ``otpauth://`` URI an authenticator app reads (as text or QR code)."""
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def code_is_good(user: User, code: str, now: datetime) -> bool:
    """Whether ``code`` is a code of ``user``'s secret not used before; a good
    one is marked used (the caller commits)."""
    code = (code or "").strip().replace(" ", "")
    if user.totp_secret is None or not (len(code) == 6 and code.isdigit()):
        return False
    totp = pyotp.TOTP(user.totp_secret)
    # The project's clock is the city's wall time without a zone; codes count from UTC.
    step = totp.timecode(now.replace(tzinfo=CITY_TZ) if now.tzinfo is None else now)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        if step + offset > (user.totp_last_step or -1) and pyotp.utils.strings_equal(
            code, totp.generate_otp(step + offset)
        ):
            user.totp_last_step = step + offset
            return True
    return False


def confirm(session: Session, user: User, code: str, now: datetime) -> None:
    """The first code from the app: from now on it is asked at login."""
    if user.totp_secret is None or has_second_factor(user):
        raise AccountError(N_("请先开始设置双重验证。"))
    if not code_is_good(user, code, now):
        raise AccountError(N_("验证码不对：请输入验证器应用中当前显示的 6 位数字，并确认手机时间准确。"))
    user.totp_confirmed_at = now.replace(tzinfo=None)
    audit(session, SUBJECT, user.id, "2fa_on", user, now, summary="开启双重验证")


def disable(session: Session, user: User, password: str, code: str, now: datetime) -> None:
    """关闭双重验证: the person's own, with their password and a current code."""
    if not has_second_factor(user):
        raise AccountError(N_("尚未开启双重验证。"))
    if not user.check_password(password):
        raise AccountError(N_("当前密码不对。"))
    if not code_is_good(user, code, now):
        raise AccountError(N_("验证码不对：请输入验证器应用中当前显示的 6 位数字，并确认手机时间准确。"))
    _clear(user)
    audit(session, SUBJECT, user.id, "2fa_off", user, now, summary="本人关闭双重验证")


def reset(session: Session, user: User, actor: User | None, now: datetime) -> None:
    """重置双重验证: an administrator's, for someone who lost their phone; ends their sessions."""
    if user.totp_secret is None:
        raise AccountError(N_("账号“%(username)s”没有设置双重验证。"), username=user.username)
    _clear(user)
    user.end_sessions()
    audit(session, SUBJECT, user.id, "2fa_reset", actor, now, summary="重置双重验证")


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
