"""A deputy's own list on a phone: one card per ticket, nothing wider than
the screen, the content and the answer readable rather than two characters wide."""

from __future__ import annotations

from admin.demo import DEMO_PASSWORD

TEXT = "文新街道某小区门口的人行道地砖松动多处，下雨天老人和孩子经过时容易踩到积水滑倒，请尽快修复。"


def test_the_deputys_list_is_cards_on_a_phone(open_page, demo):
    phone = open_page(phone=True)
    phone.login("deputy", DEMO_PASSWORD)
    phone.go("/deputy/")
    phone.page.fill("textarea[name=text]", TEXT)
    phone.page.fill("input[name=constituents]", "12")
    phone.page.click("form button.primary[type=submit]")
    phone.page.wait_for_load_state()
    phone.go("/deputy/tickets")
    cards = phone.page.locator("table.cards tbody tr")
    assert cards.count() > 0, "the demo deputy has submissions"
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= phone.page.viewport_size["width"]
    content = phone.page.locator("table.cards td[data-label='内容']").first.bounding_box()
    assert content["width"] > 0.6 * phone.page.viewport_size["width"]
    label = phone.page.evaluate(
        "getComputedStyle(document.querySelector(\"table.cards td[data-label='内容']\"), '::before').content"
    )
    assert "内容" in label
    phone.shot("deputy-list-phone")
    assert phone.errors == []
