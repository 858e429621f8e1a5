"""The dispatcher's pages in a browser: the topic found by typing, the keys
that move through triage, and a rule's streets narrowed to its district."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from admin.demo import DEMO_PASSWORD
from routing.clock import now
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.reports.queues import triage_queue
from routing.store.areas import District


def test_the_dispatcher_finds_a_topic_by_typing_and_goes_on_with_a_key(open_page, demo):
    for minutes, text in ((20, "想反映个情况"), (10, "请帮忙看看")):
        labels = Labels(topic=None, confidence=0.2, needs_triage=True, triage_reason="待人工分拣")
        open_ticket(demo, Inbound(channel="web", text=text), labels, now() - timedelta(minutes=minutes))
    demo.commit()
    first, second = [t.number for t in triage_queue(demo, now())][:2]

    desk = open_page()
    desk.login("dispatcher", DEMO_PASSWORD)
    desk.go(f"/desk/tickets/{first}")
    desk.page.fill("#topic-search", "城乡建设 / 市政设施")
    assert desk.page.input_value("#topic") == "城乡建设/市政设施"
    desk.shot("desk-topic-picker")

    desk.page.locator("body").click(position={"x": 5, "y": 5})
    desk.page.keyboard.press("n")
    desk.page.wait_for_url(f"**/desk/tickets/{second}")
    assert desk.errors == []


def test_a_rules_street_list_offers_only_the_chosen_districts_streets(open_page, demo):
    district = demo.scalar(select(District).where(District.streets.any()).order_by(District.id))
    others = demo.scalars(select(District).where(District.id != district.id, District.streets.any())).all()
    assert others, "the demo has streets in more than one district"

    desk = open_page()
    desk.login("dispatcher", DEMO_PASSWORD)
    desk.go("/desk/rules/new")

    def street_names() -> list[str]:
        return desk.page.eval_on_selector_all(
            "#street option:not([disabled])", "options => options.map(o => o.textContent)"
        )

    everywhere = street_names()
    desk.page.select_option("#district", str(district.id))
    narrowed = street_names()
    assert narrowed[1:] == [f"{district.name} · {s.name}" for s in district.streets]
    assert len(everywhere) > len(narrowed)
    desk.shot("desk-rule-streets")
    assert desk.errors == []
