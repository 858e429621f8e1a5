"""What one staff message costs on each outbound channel, through the real
clients (wechatpy, requests, smtplib) against the loopback fakes the tests
use: the client's own cost and one local round trip, not a provider's.

    python3 bench/staff_channels.py --messages 200
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller
from limits.storage import MemoryStorage

from collector.outbound.base import OutboundMessage
from collector.outbound.email import EmailChannel
from collector.outbound.robots import DingTalkRobotChannel, dingtalk_recipient
from collector.outbound.wecom import WeComChannel
from tests.collector.fake_staff_channels import FakeRobots, FakeServer, FakeWeCom

TEXT = "新派单 3 件：\n工单 T20261203-0001（城市管理/道路破损），签收时限 12-04 09:00"


class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def timed(label: str, count: int, send) -> None:
    started = time.perf_counter()
    for n in range(count):
        send(n)
    elapsed = time.perf_counter() - started
    print(f"{label:<28} {count:>5} messages  {elapsed * 1000 / count:7.2f} ms each")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    count = parser.parse_args().messages
    with FakeServer(FakeWeCom()) as wecom, FakeServer(FakeRobots()) as robots:
        fake = wecom.fake
        channel = WeComChannel.from_config({"WECOM_CORP_ID": fake.corp_id, "WECOM_AGENT_ID": str(fake.agent_id),
                                            "WECOM_SECRET": fake.secret, "WECOM_API_BASE": f"{wecom.url}/cgi-bin/"})
        timed("WeCom text (token cached)", count, lambda n: channel.send(OutboundMessage("zhangsan", TEXT)))
        ding = DingTalkRobotChannel.from_config({"DINGTALK_ROBOT_API_BASE": f"{robots.url}/robot/send"},
                                                limiter_storage=MemoryStorage())
        # A robot may send 20 a minute: each message goes to its own robot, as many agencies' do.
        robots.fake.dingtalk_secrets.update({f"robot-{n}": "SECbench" for n in range(count)})
        timed("DingTalk robot (signed)", count,
              lambda n: ding.send(OutboundMessage(dingtalk_recipient(f"robot-{n}", "SECbench"), TEXT)))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mail = EmailChannel.from_config({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_FROM": "tj@city.test",
                                         "SMTP_STARTTLS": False})
        timed("email (a connection each)", count, lambda n: mail.send(OutboundMessage("wang@agency.test", TEXT)))
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
