"""The sweep's browser contexts: one per screen and language, kept for the
module, each logged in as the role its current case needs."""

from __future__ import annotations

from sqlalchemy import update

from admin.demo import DEMO_PASSWORD
from routing.store.people import User

from .conftest import PHONE, Watched

SCREENS = {
    "phone": {"viewport": PHONE, "is_mobile": True, "has_touch": True},
    "wide": {"viewport": {"width": 1366, "height": 768}},
}
# The browser's language: residents' pages follow it, and so do staff who chose none.
LANGUAGES = {"zh": "zh-CN", "en": "en"}


class Screens:
    def __init__(self, browser, site, **options) -> None:
        self.browser = browser
        self.options = options
        self.site = site
        self.base = site.base
        self.open: dict[tuple[str, str], tuple[object, Watched, str | None]] = {}

    def as_role(self, screen: str, language: str, role: str, username: str | None) -> Watched:
        """The context's page, logged in as ``username`` (logged out for a resident)."""
        key = (screen, language)
        if key not in self.open:
            context = self.browser.new_context(locale=LANGUAGES[language], **SCREENS[screen], **self.options)
            context.set_default_timeout(10_000)
            self.open[key] = (context, Watched(context.new_page(), self.base), None)
        context, watched, current = self.open[key]
        wanted = None if role == "resident" else username
        if wanted != current:
            context.clear_cookies()
            if wanted is not None:
                watched.login(wanted, DEMO_PASSWORD)
                assert "/login" not in watched.page.url, f"{wanted} could not log in"
            self.open[key] = (context, watched, wanted)
        if wanted is not None:
            self._speak(wanted, language)
        watched.errors.clear()
        return watched

    def _speak(self, username: str, language: str) -> None:
        """The account's language, as its switch in the header would keep it (the other context may have changed it)."""
        with self.site.app.extensions["tingjian"].db.Session() as session:
            session.execute(update(User).where(User.username == username).values(locale=language))
            session.commit()

    def close(self) -> None:
        for context, _, _ in self.open.values():
            context.close()
