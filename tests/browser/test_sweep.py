"""Every role's main pages, on a phone (390×844) and a laptop (1366×768), in
Chinese and in English: nothing wider than the screen, no table cell
narrower than its longest word, no internal code (``assigned``, ``wechat``,
``not_our_duty``…) in the text a person reads, and every chart on the
dashboard leading to the list it counts. A screenshot of each page lands in
test-artifacts/browser/sweep/ for review.

One browser, one context per screen and language, one demo site for the
module (tests/browser/site.py): each case is one page, named by its role,
page, screen and language.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from admin import EVENT_LABELS
from collector.deputies import MODES
from collector.web import TIMELINE_LABELS
from routing.flow.disputes import DISPUTE_REASONS
from routing.flow.escalation import Level
from routing.flow.ratings import RATINGS
from routing.flow.steps import STEPS
from routing.reports.stats import CHANNEL_LABELS, DIMENSIONS
from routing.store.deputies import DeputyLevel
from routing.store.oversight import EscalationKind
from routing.store.people import AGENCY_KINDS, Role
from routing.store.tickets import Kind, Status, Urgency

from .conftest import ARTIFACTS, Watched
from .screens import LANGUAGES, SCREENS, Screens
from .site import COMPLAINT

SHOTS = ARTIFACTS / "sweep"

# The internal codes a page must never show raw: every enum's values and
# every key the timeline, the channels and the forms translate.
CODES = sorted(
    {
        *(e.value for enum in (Status, Kind, Urgency, Role, EscalationKind, DeputyLevel) for e in enum),
        *(level.value for level in Level if level.label),
        *CHANNEL_LABELS, *DIMENSIONS, *STEPS, *EVENT_LABELS, *TIMELINE_LABELS,
        *DISPUTE_REASONS, *RATINGS, *MODES, *AGENCY_KINDS,
    }
)
# In English most codes are English words a sentence may use ("answered",
# "city"): there only what no sentence spells so — snake_case, and the
# channels written as brands are written (WeChat, Open311) — counts as raw.
ENGLISH_CODES = sorted(c for c in CODES if "_" in c or c in {"wechat", "open311"})

CATALOGUE = Path(__file__).parents[2] / "admin" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
HAN = re.compile(r"[\u3400-\u9fff]+")


@cache
def interface_texts() -> frozenset[str]:
    """The Chinese texts of the interface that have an English translation."""
    with CATALOGUE.open("rb") as po:
        return frozenset(m.id for m in read_po(po) if m.id and isinstance(m.id, str) and m.string and m.string != m.id)


def chinese_left(text: str, data_names: set[str]) -> list[str]:
    """In an English page: interface words still in Chinese (a Chinese run that is
    a whole text of the catalogue: 投诉举报, 系统), and Chinese punctuation after
    an English word (Answer by：). Names from the data (agencies, places) and
    what residents wrote stay as stored, and are not interface texts."""
    found = [m for m in HAN.finditer(text) if m.group() in interface_texts() - data_names]
    found += re.finditer(r"[A-Za-z)][：，；（）]", text)
    # Each with what stands around it, so that a failure says where.
    return sorted({text[max(m.start() - 12, 0):m.end() + 12].replace("\n", " ") for m in found})


# (role, page, path): the path may name a seeded ticket, {name} its number, {name_code} its code.
PAGES = [
    ("resident", "form", "/"),
    ("resident", "receipt", None),  # the form, filled in and sent
    ("resident", "lookup", "/status"),
    ("resident", "status", "/status/{waiting}?code={waiting_code}"),
    ("resident", "rating", "/status/{answered}?code={answered_code}"),
    ("agency", "queue", "/agency/"),
    ("agency", "queue-assigned", "/agency/?state=assigned"),
    ("agency", "queue-accepted", "/agency/?state=accepted"),
    ("agency", "queue-waiting", "/agency/?state=waiting"),
    ("agency", "ticket", "/agency/tickets/{waiting}"),
    ("agency", "ticket-answered", "/agency/tickets/{answered}"),
    ("agency", "templates", "/agency/templates/"),
    ("agency", "knowledge", "/agency/knowledge"),
    ("agency", "digests", "/agency/digests"),
    ("dispatcher", "desk", "/desk/"),
    ("dispatcher", "triage-ticket", "/desk/tickets/{triage}"),
    ("dispatcher", "disputed-ticket", "/desk/tickets/{disputed}"),
    ("dispatcher", "answered-ticket", "/desk/tickets/{answered}"),
    ("dispatcher", "waiting-ticket", "/desk/tickets/{waiting}"),
    ("dispatcher", "disputes", "/desk/disputes"),
    ("dispatcher", "reviews", "/desk/reviews"),
    ("dispatcher", "callbacks", "/desk/callbacks"),
    ("dispatcher", "imports", "/desk/imports"),
    ("dispatcher", "notices", "/desk/notices"),
    ("dispatcher", "rules", "/desk/rules/"),
    ("dispatcher", "policies", "/desk/policies"),
    ("dispatcher", "calendar", "/desk/calendar"),
    ("dispatcher", "tickets", "/tickets/"),
    ("dispatcher", "dashboard", "/dashboard/?days=7"),
    ("dispatcher", "scorecards", "/scorecards"),
    ("dispatcher", "monthly-report", "/reports/monthly"),
    ("dispatcher", "deputy-suggestions", "/scorecards/deputy-suggestions"),
    ("dispatcher", "review-rules", "/desk/review-rules"),
    ("dispatcher", "escalations", "/desk/escalations"),
    ("dispatcher", "transcribe", "/desk/transcribe/"),
    ("dispatcher", "knowledge", "/desk/knowledge"),
    ("dispatcher", "new-rule", "/desk/rules/new"),
    ("deputy", "portal", "/deputy/"),
    ("deputy", "submit", None),  # the portal's form, filled in and sent
    ("deputy", "tickets", "/deputy/tickets"),
    ("deputy", "ticket", "/deputy/tickets/{deputy}"),
    ("admin", "accounts", "/admin/accounts/"),
    ("admin", "agencies", "/admin/agencies/"),
    ("admin", "stations", "/admin/stations/"),
    ("admin", "deputies", "/admin/deputies/"),
    ("admin", "places", "/admin/places/"),
    ("admin", "channels", "/admin/channels/"),
    ("admin", "access-log", "/admin/access-log"),
    ("admin", "organisation-import", "/admin/organisation/import/"),
]

CASES = [
    pytest.param(screen, language, role, page, path, id=f"{role}-{page}-{screen}-{language}")
    for screen in SCREENS
    for language in LANGUAGES
    for role, page, path in PAGES
]

# In the page: the cells narrower than the widest piece of their text that
# cannot break — a word (Intl.Segmenter's, so 待签收 counts as words, not
# as three characters), or a run of letters and digits (a ticket number, a date).
NARROW_CELLS = """() => {
  const canvas = document.createElement('canvas').getContext('2d');
  const lang = document.documentElement.lang || 'zh-CN';
  const words = new Intl.Segmenter(lang, {granularity: 'word'});
  const narrow = [];
  for (const cell of document.querySelectorAll('td, th')) {
    // Not shown, or shown to screen readers only (a card's header row, clipped to a pixel).
    if (!cell.getClientRects().length || cell.parentElement.parentElement.getBoundingClientRect().width <= 1) continue;
    const style = getComputedStyle(cell);
    const room = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    let widest = 0, token = '';
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      const box = parent.getBoundingClientRect();
      // Unseen, or for screen readers only (.visually-hidden, clipped to a pixel).
      if (!parent.getClientRects().length || (box.width <= 1 && box.height <= 1)) continue;
      canvas.font = getComputedStyle(parent).font;
      const text = node.textContent;
      const pieces = [...words.segment(text)].filter(s => s.isWordLike).map(s => s.segment);
      pieces.push(...(text.match(/[^\\s\\u2E80-\\u9FFF\\uFF00-\\uFFEF\\u3000-\\u303F]+/g) || []));
      for (const piece of pieces) {
        const width = canvas.measureText(piece).width;
        if (width > widest) { widest = width; token = piece; }
      }
    }
    if (widest > room + 1) {
      const table = cell.closest('table');
      const name = table.id ? '#' + table.id : (table.className ? 'table.' + table.className : 'table');
      narrow.push(`${name} column ${cell.cellIndex + 1}: ${token} (${Math.round(widest)}px in ${Math.round(room)}px)`);
    }
  }
  return narrow;
}"""

# The text a person reads: without what the page marks as data, not words
# (translate="no": a login name such as "admin" is the account's, not a code).
READ_TEXT = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('[translate=no], script, style, template').forEach(e => e.remove());
  document.body.appendChild(copy);
  copy.style.position = 'absolute';
  const text = copy.innerText;
  copy.remove();
  return text;
}"""


@pytest.fixture(autouse=True)
def unspent_limits(site):
    site.reset_limits()


@pytest.fixture(scope="module")
def screens(browser, site):
    opened = Screens(browser, site)
    yield opened
    opened.close()


def raw_codes(text: str, language: str) -> list[str]:
    codes = CODES if language == "zh" else ENGLISH_CODES
    return [code for code in codes if re.search(rf"(?<![A-Za-z0-9_/.-]){re.escape(code)}(?![A-Za-z0-9_/-])", text)]


def visit(watched: Watched, site, page: str, path: str | None) -> None:
    tab = watched.page
    if page == "receipt":
        watched.go("/")
        tab.fill("textarea[name=text]", COMPLAINT)
        tab.click("button[type=submit].primary")
        tab.wait_for_selector("#ticket-number")
    elif page == "submit":
        watched.go("/deputy/")
        tab.fill("textarea[name=text]", COMPLAINT)
        tab.fill("input[name=constituents]", "12")
        tab.click("form button.primary[type=submit]")
        tab.wait_for_load_state()
    else:
        values = {**site.numbers, **{f"{k}_code": v for k, v in site.codes.items()}}
        response = watched.go(path.format(**values))
        assert response.status == 200, f"{path}: HTTP {response.status}"
        if page == "dashboard":
            tab.wait_for_selector("#dashboard[data-ready='1']")


@pytest.mark.parametrize(("screen", "language", "role", "page", "path"), CASES)
def test_the_page_fits_and_speaks_the_readers_language(screens, site, screen, language, role, page, path):
    watched = screens.as_role(screen, language, role, site.agency_user if role == "agency" else role)
    visit(watched, site, page, path)
    tab = watched.page
    # What is folded (an event's details) is read too, when opened.
    tab.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{role}-{page}-{screen}-{language}.png"), full_page=True)

    width, viewport = tab.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width <= viewport, f"the page is {width}px wide on a {viewport}px screen"
    narrow = tab.evaluate(NARROW_CELLS)
    assert not narrow, "cells narrower than their longest word: " + "; ".join(narrow)
    text = tab.evaluate(READ_TEXT)
    raw = raw_codes(text, language)
    assert not raw, f"internal codes in the text: {raw}"
    if language == "en":
        left = chinese_left(text, site.data_names)
        assert not left, f"Chinese left in the English page: {left}"
    assert watched.errors == []


# -- the dashboard's charts -------------------------------------------------------

# Where each chart's items are drawn, once drawn: bars as rectangles, the map's districts
# at their seats; the largest item with a list to lead to, and its pixel.
CHART_ITEM = """async (id) => {
  const chart = echarts.getInstanceByDom(document.getElementById(id));
  // Drawn anew (another dimension): bars grow from nothing, and a click meets them only when grown.
  if (!chart.getZr().animation.isFinished()) await new Promise(done => chart.on('finished', done));
  const items = [];
  chart.getModel().eachSeries((series) => {
    const data = series.getData();
    data.each((i) => {
      const item = data.getRawDataItem(i);
      if (!item || !item.url || !item.value) return;
      let point;
      if (series.type === 'series.map') {
        const seat = chart.getModel().getComponent('geo').coordinateSystem.getRegion(item.name).getCenter();
        point = chart.convertToPixel('geo', seat);
      } else if (series.type === 'series.bar') {
        const rect = data.getItemLayout(i);
        point = [rect.x + rect.width / 2, rect.y + rect.height / 2];
      } else return;
      items.push({count: item.value, url: item.url, x: point[0], y: point[1]});
    });
  });
  items.sort((a, b) => b.count - a.count);
  return items[0] || null;
}"""


def listed(watched: Watched) -> int:
    return int(re.search(r"共 (\d+) 件", watched.page.text_content("main")).group(1))


# The trend and the totals for each dimension; the map counts by district whatever the dimension.
CHARTS = [(chart, dimension) for chart in ("chart-trend", "chart-totals") for dimension in DIMENSIONS]
CHARTS.append(("chart-map", DIMENSIONS[0]))


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize(("chart", "dimension"), CHARTS)
def test_a_charts_item_leads_to_the_list_it_counts(screens, site, screen, chart, dimension):
    watched = screens.as_role(screen, "zh", "dispatcher", "dispatcher")
    tab = watched.page
    watched.go("/dashboard/?days=7")
    tab.wait_for_selector("#dashboard[data-ready='1']")
    tab.select_option("#dimension", dimension)
    tab.locator(f"#{chart}").scroll_into_view_if_needed()
    item = tab.evaluate(CHART_ITEM, chart)
    assert item is not None, f"{chart} has no item that leads to a list"
    box = tab.locator(f"#{chart}").bounding_box()
    with tab.expect_navigation():
        tab.mouse.click(box["x"] + item["x"], box["y"] + item["y"])
    assert tab.url.endswith(item["url"])
    assert listed(watched) == item["count"]
    assert watched.errors == []
