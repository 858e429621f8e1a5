"""The dispatcher works through triage without going back to the list: next
in triage, one-click merge from the duplicates, a topic picker by level, and
the page in the reader's words rather than the system's codes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from routing.clock import now
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.reports.queues import triage_queue
from routing.store.tickets import Status

from ..conftest import post_form
from ..helpers import ticket
from .test_flow import submit_on_the_station_page
from .test_matters import STREETLIGHT


def in_triage(session) -> list[str]:
    session.expire_all()
    return [t.number for t in triage_queue(session, now())]


@pytest.fixture(autouse=True)
def waiting(demo):
    """Three tickets the classifier was not sure of, the oldest first."""
    for minutes, text in ((30, "你好，想问一下这里能反映什么问题"), (20, "我有个情况想说一下"), (10, "请帮忙看看")):
        labels = Labels(topic=None, confidence=0.2, needs_triage=True, triage_reason="待人工分拣")
        open_ticket(demo, Inbound(channel="web", text=text), labels, now() - timedelta(minutes=minutes))
    demo.commit()


def test_next_goes_to_the_head_of_the_triage_queue_skipping_the_one_just_seen(client, auth, demo):
    queue = in_triage(demo)
    assert len(queue) >= 3
    auth.login("dispatcher")
    assert client.get("/desk/next").headers["Location"].endswith(f"/desk/tickets/{queue[0]}")
    assert client.get(f"/desk/next?after={queue[0]}").headers["Location"].endswith(f"/desk/tickets/{queue[1]}")
    page = client.get(f"/desk/tickets/{queue[0]}").get_data(as_text=True)
    assert f'href="/desk/next?after={queue[0]}"' in page


def test_correcting_with_next_assigns_and_moves_on_and_a_refused_step_stays(client, auth, demo):
    queue = in_triage(demo)
    auth.login("dispatcher")
    first = queue[0]
    response = post_form(client, f"/desk/tickets/{first}/correct", {"topic": "城乡建设/市政设施", "then": "next"},
                         page=f"/desk/tickets/{first}")
    assert response.headers["Location"].endswith(f"/desk/next?after={first}")
    assert ticket(demo, first).status is not Status.TRIAGE
    following = client.get(response.headers["Location"]).headers["Location"]
    assert following.endswith(f"/desk/tickets/{queue[1]}")

    # A merge into a number that does not exist is refused: the dispatcher stays to read why.
    second = queue[1]
    response = post_form(client, f"/desk/tickets/{second}/merge", {"into": "00000000", "then": "next"},
                         page=f"/desk/tickets/{second}")
    assert response.headers["Location"].endswith(f"/desk/tickets/{second}")
    assert ticket(demo, second).status is Status.TRIAGE


def test_the_queue_emptied_says_so_on_the_desk(client, auth, demo):
    auth.login("dispatcher")
    for number in in_triage(demo):
        post_form(client, f"/desk/tickets/{number}/invalidate", {"reason": "测试"}, page=f"/desk/tickets/{number}")
    assert in_triage(demo) == []
    page = client.get("/desk/next", follow_redirects=True).get_data(as_text=True)
    assert "待分拣的工单都已处理" in page


def test_a_duplicate_is_merged_with_one_click_and_listed_on_the_ticket_it_joined(client, auth, demo):
    numbers = [submit_on_the_station_page(client, demo, text, phone=f"1380000000{i}")[0]
               for i, text in enumerate(STREETLIGHT[:2])]
    auth.login("dispatcher")
    page = client.get(f"/desk/tickets/{numbers[1]}").get_data(as_text=True)
    listed = page.split("可能重复", 1)[1].split("</ul>", 1)[0]
    assert f'name="into" value="{numbers[0]}"' in listed  # the button carries the number: nothing to type
    post_form(client, f"/desk/tickets/{numbers[1]}/merge", {"into": numbers[0]}, page=f"/desk/tickets/{numbers[1]}")
    assert ticket(demo, numbers[1]).merged_into_id == ticket(demo, numbers[0]).id

    target = client.get(f"/desk/tickets/{numbers[0]}").get_data(as_text=True)
    joined = target.split("已并入本单", 1)[1].split("</ul>", 1)[0]
    assert f'href="/desk/tickets/{numbers[1]}"' in joined and "联络站网页" in joined


def test_the_topic_picker_groups_subtopics_under_their_topic_and_can_be_searched(client, auth, demo):
    auth.login("dispatcher")
    number = in_triage(demo)[0]
    page = client.get(f"/desk/tickets/{number}").get_data(as_text=True)
    picker = page.split('<select name="topic" id="topic">', 1)[1].split("</select>", 1)[0]
    groups = re.findall(r'<optgroup label="([^"]+)">', picker)
    assert "城乡建设" in groups and len(groups) == len(set(groups))
    group = picker.split('<optgroup label="城乡建设">', 1)[1].split("</optgroup>", 1)[0]
    assert 'value="城乡建设/市政设施" data-name="城乡建设 / 市政设施"' in group
    assert '<option value="城乡建设 / 市政设施">' in page.split('<datalist id="topic-names">', 1)[1]
    assert "desk.js" in page


def test_the_ticket_page_shows_names_not_codes(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo, STREETLIGHT[0])
    auth.login("dispatcher")
    page = client.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "联络站网页" in page and ">web<" not in page and " web " not in page
    timeline = page.split("处理记录", 1)[1]
    states = re.findall(r"<td>([a-z_]+)</td>", timeline)
    assert states == [], f"raw states in the timeline: {states}"


def test_in_english_the_ticket_page_says_kinds_states_and_the_system_in_english(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo, STREETLIGHT[0])
    auth.login("dispatcher")
    post_form(client, "/locale", {"locale": "en"}, page="/desk/")
    page = client.get(f"/desk/tickets/{number}").get_data(as_text=True)
    facts = page.split('<dl class="grid">', 1)[1].split("</dl>", 1)[0]
    assert "投诉举报" not in facts and "联络站网页" not in facts
    timeline = page.split("</table>")[-2]
    assert "系统" not in timeline
