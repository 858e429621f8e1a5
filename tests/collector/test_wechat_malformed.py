"""The WeChat callback, correctly signed but malformed: each kind of body WeChat
never sends gets 400 and stores nothing, in plain and in safe mode, and a real
message still works afterwards."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from routing.store.tickets import Message, Ticket

from .test_wechat import COMPLAINT, OPENID, app_config, fake, post, stored, xml  # noqa: F401 (fixtures)

NOW = int(time.time())


def body(*, sender=f"<![CDATA[{OPENID}]]>", created=str(NOW), types="<MsgType><![CDATA[text]]></MsgType>",
         rest=f"<Content><![CDATA[{COMPLAINT}]]></Content><MsgId>7001</MsgId>") -> str:
    return (f"<xml><ToUserName><![CDATA[gh_city]]></ToUserName><FromUserName>{sender}</FromUserName>"
            f"<CreateTime>{created}</CreateTime>{types}{rest}</xml>")


MALFORMED = {
    "an element where text belongs": body(rest="<Content><a>1</a><b>2</b></Content><MsgId>7001</MsgId>"),
    "an empty MsgType": body(types="<MsgType></MsgType>"),
    "a repeated MsgType": body(types="<MsgType>text</MsgType><MsgType>image</MsgType>"),
    "a MsgId that is no number": body(rest=f"<Content>{COMPLAINT}</Content><MsgId>abc</MsgId>"),
    "a MsgId beyond 64 bits": body(rest=f"<Content>{COMPLAINT}</Content><MsgId>{2**64}</MsgId>"),
    "a CreateTime that is no number": body(created="yesterday"),
    "a latitude that is no number": body(types="<MsgType>location</MsgType>",
                                         rest="<Location_X>north</Location_X><Location_Y>120.1</Location_Y>"
                                              "<Scale>15</Scale><Label>文三路</Label><MsgId>7001</MsgId>"),
    "a NaN latitude": body(types="<MsgType>location</MsgType>",
                           rest="<Location_X>NaN</Location_X><Location_Y>120.1</Location_Y>"
                                "<Scale>15</Scale><Label>文三路</Label><MsgId>7001</MsgId>"),
    "a latitude off the globe": body(types="<MsgType>location</MsgType>",
                                     rest="<Location_X>1e400</Location_X><Location_Y>120.1</Location_Y>"
                                          "<Scale>15</Scale><Label>文三路</Label><MsgId>7001</MsgId>"),
    "an over-long FromUserName": body(sender="o" * 500),
    "a FromUserName with elements": body(sender="<a>x</a>"),
    "an empty FromUserName": body(sender=""),
}


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "safe"])
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_signed_message_is_refused_and_stores_nothing(client, demo, case, encrypted):
    response = post(client, MALFORMED[case], encrypted=encrypted)
    assert response.status_code == 400
    assert stored(demo) == 0 and stored(demo, Ticket) == 0


def test_a_real_message_works_after_malformed_ones(client, demo):
    for malformed in MALFORMED.values():
        post(client, malformed)
    assert post(client, xml("text", 7002, Content=COMPLAINT)).status_code == 200
    assert stored(demo) == 1


ELEMENTS = ["FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Location_X", "Location_Y", "Event",
            "MediaId", "Recognition", "Label", "Scale"]
VALUES = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["NaN", "inf", "-0", "1e400", "text", "event", "location", "voice", "image", "１２", "<a/>"]),
)


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(ELEMENTS), VALUES), max_size=8))
def test_no_signed_body_gets_a_server_error(client, demo, elements):
    def element(name: str, value: str) -> str:
        if value == "<a/>":
            return f"<{name}><a/></{name}>"
        safe = value.replace("]]>", "")
        return f"<{name}><![CDATA[{safe}]]></{name}>"

    chosen = "".join(element(name, value) for name, value in elements)
    before = demo.scalar(select(func.count()).select_from(Message))
    response = post(client, f"<xml><ToUserName>gh_city</ToUserName>{chosen}</xml>")
    assert response.status_code < 500
    if response.status_code >= 400:
        demo.expire_all()
        assert demo.scalar(select(func.count()).select_from(Message)) == before
