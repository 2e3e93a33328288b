"""The README's screenshots: every main page, as the public and as each role, on the demo data.

``make screenshots`` runs the browser journeys with ``E2E_SCREENSHOT_DIR=docs/screenshots``;
this module writes the README's pictures there under the names the README uses (the
journeys add theirs). In an ordinary run the pictures go to tests/e2e/artifacts/ and the
module is a smoke test of the demo: each page opens with its styles, without a console error
or a failed request, and the demo has what each picture needs (a ranking, a performance
evaluation waiting for its assessor, a double-funding flag, charts that load).

The demo is built with ``manage.py seed_demo``: 24 s of CPU with its background tasks queued
in the database, as here; run at once, the integrity screens that each of its openings
queues take it to 144 s.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from marketplace.demo import DEMO_PASSWORD
from marketplace.models import User
from marketplace.two_factor import needs_two_factor
from tests.e2e.support import screenshot_dir, shot, sign_in, switch_language
from tests.otp_support import confirmed_device

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PDFTOPPM = Path("/usr/bin/pdftoppm")


@pytest.fixture
def demo(settings) -> None:
    """The demo street office, its tasks queued rather than run."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    call_command("seed_demo", allow_production=True, stdout=io.StringIO())


def go(page: Page, selector: str) -> None:
    """Follow the first link matching ``selector`` and wait for its page."""
    with page.expect_navigation():
        page.locator(selector).first.click()


def shoot_pdf(page: Page, link: str, name: str) -> Path:
    """The first page of the PDF behind the link ``link`` as a PNG (pdftoppm, from
    Debian's poppler-utils: headless Chromium does not render PDFs)."""
    assert PDFTOPPM.exists(), (
        f"{PDFTOPPM} is missing: install Debian's poppler-utils (scripts/bootstrap.sh does as root)"
    )
    href = page.locator(link).first.evaluate("a => a.href")
    response = page.request.get(href)
    assert response.ok, f"{href}: HTTP {response.status}"
    assert response.headers["content-type"] == "application/pdf"
    target = screenshot_dir() / name
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "document.pdf"
        pdf.write_bytes(response.body())
        arguments = ["-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf)]
        subprocess.run([str(PDFTOPPM), *arguments, str(target)], check=True)
    return target.with_suffix(".png")


def as_demo_user(browse: Callable[..., Page], username: str) -> Page:
    """A page signed in as the demo account ``username`` (staff pass the second factor)."""
    user = User.objects.get(username=username)
    if needs_two_factor(user):
        confirmed_device(user)  # the demo's people set up their authenticator before
    page = browse()
    sign_in(page, user, password=DEMO_PASSWORD)
    return page


def public_pages(page: Page) -> None:
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    shot(page, "home-zh")
    page.goto("/accounts/login/")
    shot(page, "login-zh")
    page.goto("/organizations/")
    shot(page, "directory")
    go(page, "#directory-results table tbody tr:first-child a")
    shot(page, "organization-profile")
    page.goto("/credit/")
    shot(page, "credit-lists")
    page.goto("/tenders/")
    shot(page, "tenders")
    page.goto("/public/")
    shot(page, "portal")
    page.goto("/public/results/")
    go(page, "table tbody tr:first-child a[href*='/public/results/']")
    shot(page, "portal-result")
    page.goto(page.url.replace("/public/results/", "/tenders/"))
    shoot_pdf(page, "a[href*='/reports/award_notice/'][href$='lang=zh-hans']", "pdf-award-notice")
    page.goto("/statistics/")
    charts = page.locator("main img")
    expect(charts.first).to_be_visible()
    assert charts.first.evaluate("img => img.complete && img.naturalWidth > 0")
    shot(page, "statistics")
    page.goto("/public/data/")
    shot(page, "portal-data")
    page.goto("/tenders/?status=opened")
    go(page, "table tbody tr:first-child a")
    shot(page, "tender-opened")


def organization_pages(page: Page) -> str:
    """The organization's pages; returns the address of a service site's survey."""
    page.goto("/dashboard/")
    shot(page, "dashboard-org_admin")
    page.goto("/organizations/mine/")
    shot(page, "organization-manage")
    go(page, "a[href$='/staff/']")
    shot(page, "roster")
    page.goto("/tenders/my-bids/")
    shot(page, "my-bids")
    go(page, "a[href*='/receipts/']")
    shot(page, "bid-receipt")
    page.goto("/contracts/")
    go(page, "table tbody a:has-text('低保边缘')")
    go(page, "a[href$='/delivery/']")
    shot(page, "delivery")
    go(page, "a[href$='/survey-sites/']")
    return page.locator("a[href*='/survey/']").first.evaluate("a => a.href")


def official_pages(page: Page) -> None:
    page.goto("/dashboard/")
    shot(page, "dashboard-official")
    page.goto("/tenders/workspace/")
    shot(page, "tender-workspace")
    page.goto("/tenders/?status=evaluating")
    hrefs = page.locator("table tbody tr a[href^='/tenders/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    for href in hrefs:
        page.goto(href)
        if page.locator("a[href$='/ranking/']").count():
            go(page, "a[href$='/ranking/']")
            shot(page, "ranking")
            page.goto(page.url.replace("/ranking/", "/panel/"))
            shot(page, "panel")
            break
    else:
        pytest.fail("no tender in evaluation has a ranking")
    page.goto("/tenders/?status=awarded")
    go(page, "table tbody tr:first-child a")
    shot(page, "award-notice")
    page.goto("/contracts/")
    go(page, "table tbody a:has-text('文明劝导')")
    shot(page, "contract-detail")
    contract = page.url
    go(page, "a[href*='/evaluation/performance/']")
    shot(page, "performance-evaluation")
    page.goto(contract)
    go(page, "a[href$='/satisfaction/']")
    shot(page, "satisfaction")


def registry_pages(page: Page) -> None:
    page.goto("/dashboard/")
    shot(page, "dashboard-registry")
    page.goto("/registry/")
    shot(page, "registry-home")


def assessor_pages(page: Page) -> None:
    page.goto("/evaluation/performance/")
    hrefs = page.locator("a[href*='/evaluation/performance/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    for href in hrefs:
        if not href.rstrip("/").split("/")[-1].isdigit():
            continue
        page.goto(href)
        declare = page.locator("form[action$='/declare/'] button[type=submit]")
        if not declare.count():
            continue
        with page.expect_navigation():
            declare.click()
        page.goto(f"{href}scores/")
        shot(page, "performance-assessor")
        break
    else:
        pytest.fail("no performance evaluation waits for the assessor's declaration")
    page.goto("/evaluation/assignments/")
    shot(page, "assessor-assignments")
    if not page.locator("a[href*='/evaluation/sheets/']").count():
        go(page, "a[href*='/sheets/']")
    go(page, "a[href*='/evaluation/sheets/']")
    shot(page, "score-sheet")
    page.goto("/grades/")
    go(page, "table tbody tr:first-child a")
    shot(page, "grade-scoring")


def auditor_pages(page: Page) -> None:
    page.goto("/evaluation/integrity/")
    shot(page, "integrity-queue")
    page.goto("/evaluation/integrity/?kind=staff_on_public_payroll")
    go(page, "table tbody tr:first-child a[href*='/integrity/flags/']")
    shot(page, "integrity-flag")
    page.goto("/audit/")
    shot(page, "audit-log")
    switch_language(page, "en")
    shot(page, "audit-log-en")
    page.goto("/")
    shot(page, "home-en")
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info")).to_be_visible(timeout=15_000)
    shot(page, "api-docs")


def test_the_readme_screenshots_of_every_main_page(demo, browse):
    public_pages(browse())
    survey = organization_pages(as_demo_user(browse, "org_admin"))
    official_pages(as_demo_user(browse, "official"))
    registry_pages(as_demo_user(browse, "registry"))
    assessor_pages(as_demo_user(browse, "assessor"))
    auditor_pages(as_demo_user(browse, "auditor"))

    phone = browse()
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto("/")
    shot(phone, "home-mobile")
    phone.goto(survey)
    shot(phone, "survey-mobile")
