"""The residents' pages checked with axe-core (the npm package, pinned in
package-lock.json, run in the page): no serious or critical violation on
the form, the receipt, the lookup, the status page, the rating, and the
error and limit pages — on a phone and a laptop, in Chinese and in English."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..helpers import unavailable
from .screens import LANGUAGES, SCREENS, Screens
from .site import COMPLAINT

AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = {"serious", "critical"}

PAGES = {
    "form": "/",
    "receipt": None,  # the form, filled in and sent
    "lookup": "/status",
    "status": "/status/{waiting}?code={waiting_code}",
    "rating": "/status/{answered}?code={answered_code}",
    "not-found": "/status/00000000?code=XXXXXX",
    "limit": None,  # the form sent once too often
}


@pytest.fixture(scope="module")
def axe() -> str:
    if not AXE.exists():
        unavailable("node_modules/axe-core is missing: npm ci (CI does)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def unspent_limits(site):
    site.reset_limits()


@pytest.fixture(scope="module")
def screens(browser, site):
    # The pages forbid inline scripts (CSP, as they should); axe is the test's, not the page's.
    opened = Screens(browser, site, bypass_csp=True)
    yield opened
    opened.close()


def send_form(tab, base: str) -> int:
    """The resident's form filled in and sent; the answer's HTTP status."""
    tab.goto(base + "/")
    tab.fill("textarea[name=text]", COMPLAINT)
    with tab.expect_response(lambda r: r.request.method == "POST") as sent:
        tab.click("button[type=submit].primary")
    tab.wait_for_load_state()
    return sent.value.status


def open_resident_page(tab, site, page: str) -> None:
    if page == "receipt":
        send_form(tab, site.base)
        tab.wait_for_selector("#ticket-number")
    elif page == "limit":
        # The site allows three a minute from one address: the fourth is refused, politely.
        refused = [send_form(tab, site.base) for _ in range(4)]
        assert refused[-1] == 429, refused
        tab.wait_for_selector("p.warning")
    else:
        values = {**site.numbers, **{f"{k}_code": v for k, v in site.codes.items()}}
        tab.goto(site.base + PAGES[page].format(**values))


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("page", list(PAGES))
def test_a_residents_page_has_no_serious_accessibility_violation(screens, site, axe, page, screen, language):
    tab = screens.as_role(screen, language, "resident", None).page
    open_resident_page(tab, site, page)
    tab.add_script_tag(content=axe)
    found = tab.evaluate("async () => (await axe.run(document)).violations")
    serious = [v for v in found if v["impact"] in SERIOUS]
    assert not serious, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(" ".join(n["target"]) for n in v["nodes"]) for v in serious
    )
