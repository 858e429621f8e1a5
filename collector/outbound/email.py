"""Email (电子邮件) over SMTP, for staff who work from a mailbox."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, ClassVar

from collector.outbound.base import Channel, OutboundMessage
from routing.store.jobs import Permanent
from routing.texts import N_

TIMEOUT = 10.0


class EmailChannel(Channel):
    """``recipient``: one address. STARTTLS unless ``SMTP_STARTTLS`` is 0
    (port 465's implicit TLS: ``SMTP_SSL``=1); login when a user is set."""

    name: ClassVar[str] = "email"
    label: ClassVar[str] = N_("电子邮件")
    required_settings: ClassVar[tuple[str, ...]] = ("SMTP_HOST", "SMTP_FROM")

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        user: str = "",
        password: str = "",
        starttls: bool = True,
        implicit_tls: bool = False,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password = user, password
        self.starttls, self.implicit_tls = starttls, implicit_tls

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **_runtime: Any) -> EmailChannel | None:
        if not all(config.get(name) for name in cls.required_settings):
            return None
        return cls(
            str(config["SMTP_HOST"]),
            int(config.get("SMTP_PORT") or 587),
            str(config["SMTP_FROM"]),
            user=config.get("SMTP_USER") or "",
            password=config.get("SMTP_PASSWORD") or "",
            starttls=bool(config.get("SMTP_STARTTLS", True)),
            implicit_tls=bool(config.get("SMTP_SSL", False)),
        )

    def compose(self, message: OutboundMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"], mail["To"] = self.sender, message.recipient
        mail["Subject"] = message.title or message.text.splitlines()[0][:60]
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        mail.set_content(f"{message.text}\n\n{message.url}" if message.url else message.text)
        return mail

    def send(self, message: OutboundMessage) -> None:
        if "@" not in message.recipient:
            raise Permanent(f"不是电子邮件地址：{message.recipient}")
        context = ssl.create_default_context()
        connect = smtplib.SMTP_SSL if self.implicit_tls else smtplib.SMTP
        kwargs = {"context": context} if self.implicit_tls else {}
        try:
            with connect(self.host, self.port, timeout=TIMEOUT, **kwargs) as smtp:
                if self.starttls and not self.implicit_tls:
                    smtp.starttls(context=context)
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(self.compose(message))
        except smtplib.SMTPRecipientsRefused as exc:
            raise Permanent(f"邮件服务器拒收 {message.recipient}：{exc.recipients}") from exc
        except smtplib.SMTPAuthenticationError as exc:
            # A wrong password is an operator's to fix; the message waits for it.
            raise ConnectionError(f"邮件服务器登录失败：{exc.smtp_code} {exc.smtp_error!r}") from exc
