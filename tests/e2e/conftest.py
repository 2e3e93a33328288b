"""Browser journeys: Debian's Chromium driven by Playwright against pytest-django's live server.

Each module starts one browser; each person in a journey gets a page of their own (its own
cookies) from ``browse``. Modules mark themselves with
``pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True,
serialized_rollback=True)]``: the live server answers from another thread, so the data must
be committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.support import assert_clean, launch_chromium, open_page, problems_of


@pytest.fixture(scope="module")
def _orm_beside_playwright() -> Iterator[None]:
    """Let the test's thread use the ORM while Playwright's event loop runs in it.

    Playwright's sync API keeps an asyncio loop running in the test's thread, which makes
    Django refuse ORM calls there (SynchronousOnlyOperation). The journeys only read codes
    and move deadlines between browser steps, never concurrently with the loop's work, so
    the check is lifted for the e2e modules only and put back when the module ends.
    """
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(_orm_beside_playwright) -> Iterator[Browser]:
    """One headless Chromium per module (started and stopped with it, so that Playwright's
    event loop never outlives the e2e module on an xdist worker)."""
    playwright = sync_playwright().start()
    try:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def browse(browser, live_server, _orm_beside_playwright) -> Iterator[Callable[..., Page]]:
    """``browse(language="zh-hans")`` opens a page for one person on the live server.

    When the test ends, every page it opened must be free of console errors, failed
    requests and unexpected error responses (``support.assert_clean`` says which).
    """
    pages: list[Page] = []

    def open_for_person(language: str = "zh-hans") -> Page:
        page = open_page(browser, live_server.url, language)
        pages.append(page)
        return page

    yield open_for_person
    try:
        for page in pages:
            if not page.is_closed():
                problems = problems_of(page)
                if problems.entries:
                    assert_clean(page)
    finally:
        for page in pages:
            page.context.close()
