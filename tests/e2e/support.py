"""Helpers for the browser journeys: pages that watch for errors, sign-in, forms, screenshots.

Every page a journey opens comes from ``open_page`` (through the ``browse`` fixture), which
records what a user would not see but must not happen: console errors (a script error or a
Content-Security-Policy refusal is logged there), uncaught exceptions, failed requests and
responses of 400 or more (a 404 for a stylesheet, a 500). ``assert_clean`` fails the journey
on any of them; the ``browse`` fixture checks again when the test ends.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import translation
from django.utils.translation import gettext, pgettext
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from marketplace.models import Role
from marketplace.two_factor import needs_two_factor
from tests.conftest import PASSWORD, make_user
from tests.evaluation.conftest import open_tender
from tests.otp_support import totp_code
from tests.tenders.conftest import publish_tender

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TWO_FACTOR_PATH = "/accounts/two-factor/"

# A small PDF the upload checks accept (the same bytes the page tests upload).
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

# Browser locale per interface language: Django picks the language from Accept-Language.
LOCALES = {"zh-hans": "zh-CN", "en": "en-US"}


@dataclass
class Problems:
    """What went wrong on a page out of the user's sight, in the order it happened."""

    entries: list[str] = field(default_factory=list)
    # Responses with these statuses on these paths are expected by the journey (a 403 page
    # it means to show); everything else of 400 or more is a problem.
    allowed: set[tuple[str, int]] = field(default_factory=set)

    def add(self, entry: str) -> None:
        self.entries.append(entry)


def launch_chromium(playwright: Any) -> Browser:
    """Debian's Chromium, headless; Playwright's own browser download is not used."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser journeys drive Debian's Chromium. "
            "Install it with `apt-get install chromium chromium-driver` (or run "
            "scripts/bootstrap.sh as root).",
            pytrace=False,
        )
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


def open_page(browser: Browser, base_url: str, language: str = "zh-hans") -> Page:
    """A page in a fresh context (its own cookies: one per person) that records problems.

    The browser's locale asks for ``language`` the way a user's browser would; the header's
    switch (``switch_language``) changes it the way a user would.
    """
    locale = LOCALES[language]
    context: BrowserContext = browser.new_context(
        base_url=base_url,
        locale=locale,
        extra_http_headers={"Accept-Language": locale},
        viewport={"width": 1280, "height": 900},
    )
    # Generous: CI machines run the suite on every core at once.
    context.set_default_timeout(30_000)
    page = context.new_page()
    problems = Problems()
    page._e2e_problems = problems  # type: ignore[attr-defined]
    page.on("console", lambda message: _on_console(problems, message))
    page.on("pageerror", lambda error: problems.add(f"uncaught exception: {error}"))
    page.on(
        "requestfailed",
        lambda request: problems.add(f"request failed: {request.url} ({request.failure})"),
    )
    page.on("response", lambda response: _on_response(problems, response))
    # Buttons with data-confirm ask window.confirm(); the user answers yes.
    page.on("dialog", lambda dialog: dialog.accept())
    return page


def _on_console(problems: Problems, message: Any) -> None:
    if message.type == "error":
        problems.add(f"console error: {message.text} at {message.location.get('url', '')}")


def _on_response(problems: Problems, response: Any) -> None:
    if response.status < 400:
        return
    path = urlsplit(response.url).path
    if (path, response.status) not in problems.allowed:
        problems.add(f"HTTP {response.status}: {response.request.method} {response.url}")


def problems_of(page: Page) -> Problems:
    return page._e2e_problems  # type: ignore[attr-defined]


def allow_status(page: Page, path: str, status: int) -> None:
    """Expect one error response (a refusal the journey checks); the console line that
    Chromium logs for it is expected too."""
    problems_of(page).allowed.add((path, status))


def assert_clean(page: Page) -> None:
    """No console errors, uncaught exceptions, failed requests or unexpected error responses
    so far, and the stylesheet of the current page is applied."""
    entries = [
        entry
        for entry in problems_of(page).entries
        if not _expected_console_line(problems_of(page), entry)
    ]
    assert not entries, "the browser reported problems:\n" + "\n".join(entries)
    assert_styled(page)


def _expected_console_line(problems: Problems, entry: str) -> bool:
    """Chromium logs 'Failed to load resource: ... 403' for an allowed refusal."""
    if not entry.startswith("console error: Failed to load resource"):
        return False
    return any(
        f"status of {status}" in entry and path in entry for path, status in problems.allowed
    )


def assert_styled(page: Page) -> None:
    """The site's stylesheet loaded and applies: it has rules and the header is laid out
    by it (an unstyled page has a transparent header)."""
    rules = page.evaluate(
        """() => Array.from(document.styleSheets)
            .filter(sheet => sheet.href && sheet.href.includes('/static/'))
            .reduce((count, sheet) => count + sheet.cssRules.length, 0)"""
    )
    assert rules > 0, f"no rules from the site's stylesheet on {page.url}"
    header = page.locator("header.site-header")
    if header.count():
        background = header.evaluate("element => getComputedStyle(element).backgroundColor")
        assert background not in ("rgba(0, 0, 0, 0)", "transparent"), page.url


def screenshot_dir() -> Path:
    """``$E2E_SCREENSHOT_DIR`` when set (``make screenshots`` writes the README's), else
    tests/e2e/artifacts/ (git-ignored)."""
    folder = Path(os.environ.get("E2E_SCREENSHOT_DIR") or ARTIFACTS)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shot(page: Page, name: str) -> Path:
    """Save a full-page PNG named ``name`` (``.png`` added when missing) and return its path."""
    filename = name if name.endswith(".png") else f"{name}.png"
    path = screenshot_dir() / filename
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0
    return path


def sign_in(page: Page, user: Any, password: str = PASSWORD, next_url: str = "") -> None:
    """Sign in through the login page; staff roles must then pass the two-factor page, with
    the current code of their authenticator (``tests.otp_support``; one is made for a user
    who has none, as if they had enrolled before)."""
    target = "/accounts/login/" + (f"?next={next_url}" if next_url else "")
    page.goto(target)
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(password)
    submit_form(page.locator("form:has(input[name=password])"))
    on_two_factor = urlsplit(page.url).path == TWO_FACTOR_PATH
    assert on_two_factor == needs_two_factor(user), (
        f"{user.username} ({user.role}) {'was' if on_two_factor else 'was not'} asked for a "
        "second factor"
    )
    if on_two_factor:
        page.locator("input[name=otp_token]").fill(totp_code(user))
        submit_form(page.locator("form:has(input[name=otp_token])"))
    assert urlsplit(page.url).path not in ("/accounts/login/", TWO_FACTOR_PATH), (
        f"{user.username} is still on {page.url} after signing in"
    )
    expect(page.locator(".user-chip")).to_be_visible()


def sign_out(page: Page) -> None:
    with page.expect_navigation():
        page.locator("form[action$='/accounts/logout/'] button[type=submit]").click()


def switch_language(page: Page, language: str) -> None:
    """Choose ``language`` in the header's switch (it submits itself) and wait for the page
    to come back in it."""
    with page.expect_navigation():
        page.locator("#language-select").select_option(language)
    expected = "zh-Hans" if language == "zh-hans" else language
    expect(page.locator("html")).to_have_attribute("lang", expected)


def submit_form(form: Locator, button: str | re.Pattern[str] | None = None) -> None:
    """Press the form's submit button (the one named ``button`` when there are several) and
    wait for the page it leads to."""
    buttons = form.locator("button[type=submit], input[type=submit], button:not([type])")
    if button is not None:
        buttons = buttons.filter(has_text=button)
    with form.page.expect_navigation():
        buttons.first.click()


def fill_field(field_locator: Locator, value: Any) -> None:
    """Fill one control the way a user would: type text, pick an option, tick a box, attach
    a file (``value`` as bytes becomes a PDF named after the field, or give a
    ``{"name", "mimeType", "buffer"}`` dict or a list of them)."""
    tag = field_locator.evaluate("element => element.tagName.toLowerCase()")
    kind = (field_locator.get_attribute("type") or "").lower()
    if tag == "select":
        items = value if isinstance(value, list | tuple) else [value]
        wanted = [str(item) for item in items]
        if _options_have_values(field_locator, wanted):
            field_locator.select_option(value=wanted)
        else:
            field_locator.select_option(label=wanted)
    elif kind in ("checkbox", "radio"):
        field_locator.set_checked(bool(value))
    elif kind == "file":
        field_locator.set_input_files(_files(value, field_locator.get_attribute("name") or "file"))
    else:
        field_locator.fill(str(value))


def _options_have_values(select: Locator, values: Iterable[str]) -> bool:
    """Whether every wanted value is an option's value (else they are its labels)."""
    option_values = set(select.evaluate("s => Array.from(s.options).map(o => o.value)"))
    return all(item in option_values for item in values)


def _files(value: Any, name: str) -> Any:
    if isinstance(value, bytes):
        return {"name": f"{name}.pdf", "mimeType": "application/pdf", "buffer": value}
    return value


def fill_by_name(scope: Page | Locator, values: Mapping[str, Any]) -> None:
    """Fill controls found by their ``name`` attribute."""
    for name, value in values.items():
        fill_field(scope.locator(f"[name='{name}']").first, value)


def fill_by_label(scope: Page | Locator, values: Mapping[str, Any]) -> None:
    """Fill controls found by their visible label (the text a user reads)."""
    for label, value in values.items():
        fill_field(scope.get_by_label(label, exact=False).first, value)


def pdf_file(name: str, extra: bytes = b"") -> dict[str, Any]:
    """A small valid PDF for ``set_input_files``; ``extra`` makes its content unique."""
    body = PDF if not extra else PDF.replace(b"%%EOF", b"% " + extra + b"\n%%EOF")
    return {"name": name, "mimeType": "application/pdf", "buffer": body}


def main_text(page: Page) -> str:
    """The text of the page's main region (what the user reads, without header and footer)."""
    return page.locator("main").inner_text()


def t(message: str, language: str = "zh-hans", context: str | None = None) -> str:
    """``message`` as the interface shows it in ``language`` (the catalogue's translation,
    or the English text while a string is not translated yet)."""
    with translation.override(language):
        return pgettext(context, message) if context else gettext(message)


def expect_message(page: Page, text: str) -> None:
    """A success message with ``text`` is shown at the top of the page (for a message with
    placeholders, its longest fixed part)."""
    fixed = max(re.split(r"%\(\w+\)s", text), key=len).strip()
    expect(page.locator(".messages .message-success").filter(has_text=fixed)).to_be_visible()


def opened_tender(clock: Any, *, official: Any, approver: Any, category: Any, **kwargs: Any) -> Any:
    """A tender that ``official`` drafted and ``approver`` published in ``category``, bid on
    by verified organizations and opened by ``official`` with a second official
    (``tests.evaluation.conftest.open_tender``: ``kwargs`` go to it)."""
    return open_tender(
        make_tender=lambda **kw: publish_tender(
            official=official, approver=approver, category=category, **kw
        ),
        clock=clock,
        official=official,
        second_official=make_user("second_official", Role.OFFICIAL),
        **kwargs,
    )
