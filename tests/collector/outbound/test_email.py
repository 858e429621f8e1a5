"""Email through smtplib, to a local SMTP server (aiosmtpd) that requires a login."""

from __future__ import annotations

import socket
from email import message_from_bytes
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from collector.outbound.base import OutboundMessage
from collector.outbound.email import EmailChannel
from routing.store.jobs import Permanent


class Mailbox:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not address.endswith("@agency.test"):
            return "550 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"notices", b"pw")
    return AuthResult(success=ok)


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    with socket.socket() as probe:  # a free port: the controller checks its server by connecting to it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port, authenticator=authenticate, auth_require_tls=False
    )
    controller.start()
    yield controller, mailbox
    controller.stop()


def settings(controller, **more) -> dict:
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": controller.port,
        "SMTP_FROM": "tingjian@city.test",
        "SMTP_USER": "notices",
        "SMTP_PASSWORD": "pw",
        "SMTP_STARTTLS": False,
    } | more


def test_off_without_a_host_and_a_sender():
    assert EmailChannel.from_config({}) is None
    assert EmailChannel.from_config({"SMTP_HOST": "mail.test"}) is None


def test_a_message_is_delivered_after_logging_in(smtp):
    controller, mailbox = smtp
    EmailChannel.from_config(settings(controller)).send(
        OutboundMessage("wang@agency.test", "工单 T1 新派单：道路破损", title="新派单", url="https://tj.test/a/1")
    )
    [(sender, recipients, content)] = mailbox.received
    assert sender == "tingjian@city.test" and recipients == ["wang@agency.test"]
    mail = message_from_bytes(content, policy=default)
    assert mail["Subject"] == "新派单"
    assert "工单 T1 新派单：道路破损" in mail.get_content() and "https://tj.test/a/1" in mail.get_content()


def test_an_address_the_server_refuses_fails_for_good(smtp):
    controller, _ = smtp
    with pytest.raises(Permanent, match="拒收"):
        EmailChannel.from_config(settings(controller)).send(OutboundMessage("someone@elsewhere.test", "一"))
    with pytest.raises(Permanent, match="不是电子邮件地址"):
        EmailChannel.from_config(settings(controller)).send(OutboundMessage("zhangsan", "一"))
