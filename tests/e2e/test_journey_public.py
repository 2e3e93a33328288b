"""Browser journey of the public (Chinese interface, nobody signed in): the disclosure
portal, an award notice with its scores, the opening record, the signed contract, the
winner's profile, the statistics with their charts and the open-data page; no page shows
personal data (ID numbers, phones, people's full names: plain or masked).

Set up through the real services: the awarded tender of ``tests.tenders.test_award`` (four
ranked bids), its contract drawn up, signed by both sides and started; every person and
organization has a phone, as in ``tests/reports/test_portal.py``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from orgs_registry.models import Organization, Person
from tenders.models import Contract, Tender
from tests.conftest import patch_clock
from tests.e2e.support import assert_clean, main_text, shot, t
from tests.reports.test_portal import _contract_for, forbidden
from tests.tenders.test_award import RANKED_AT, awarded_tender, local

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def clock(monkeypatch, settings):
    """The award tests' clock; tasks queued in the database (the opening's screens)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    return patch_clock(monkeypatch, RANKED_AT)


def contracted(clock) -> Contract:
    """The awarded tender's contract, in force since its service began in January; phones
    on every person and organization."""
    ranked = awarded_tender(clock)
    clock.set(local(2027, 1, 4, 9, 0))  # the challenge window is over, the service begun
    contract = _contract_for(Tender.objects.get(pk=ranked.tender.pk))
    for index, person in enumerate(Person.objects.order_by("pk")):
        Person.objects.filter(pk=person.pk).update(phone=f"1391234{index:04d}")
    for index, organization in enumerate(Organization.objects.order_by("pk")):
        Organization.objects.filter(pk=organization.pk).update(phone=f"1370987{index:04d}")
    return contract


def no_personal_data(page: Page, never: list[str]) -> None:
    """Nothing of ``never`` in the page's HTML (text, attributes and scripts alike)."""
    html = page.content()
    shown = [value for value in never if value and value in html]
    assert shown == [], (page.url, shown)


def follow(page: Page, link) -> None:
    with page.expect_navigation():
        link.click()


def test_the_public_reads_the_record_of_a_tender_without_personal_data(browse, clock):
    contract = contracted(clock)
    tender = contract.tender
    winner = contract.organization
    never = forbidden(None)  # type: ignore[arg-type]  # the record is not read
    assert len(never) > 20

    page = browse()
    page.goto("/")
    follow(page, page.locator("nav").get_by_role("link", name=t("Disclosure")).first)
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("main")).to_contain_text(tender.title)
    shot(page, "public-portal")
    no_personal_data(page, never)

    # The award notice: the winner, each valid bid's scores and rank.
    follow(page, page.get_by_role("link", name=t("Award notices")).first)
    follow(page, page.locator("main tbody tr").filter(has_text=tender.title).locator("a").first)
    notice = main_text(page)
    assert winner.name in notice
    assert t("Winning bidder") in notice
    assert "87.88" in notice  # the winner's total (tests.tenders.test_award.TOTALS)
    shot(page, "public-result")
    result_url = page.url
    no_personal_data(page, never)

    # The opening record: every bidder and its price, read out at the opening.
    follow(page, page.locator(f"main a[href='/public/openings/{tender.pk}/']").first)
    record = main_text(page)
    for bid in tender.bids.select_related("organization"):
        assert bid.organization.name in record
        assert f"{bid.price:.2f}" in record  # no grouping in Chinese number formats
    shot(page, "public-opening-record")
    no_personal_data(page, never)

    # The contract, from the notice: its reference, supplier and price; its team masked.
    page.goto(result_url)
    follow(page, page.locator(f"main a[href='/contracts/{contract.pk}/']").first)
    expect(page.locator("main")).to_contain_text(contract.reference)
    expect(page.locator("main")).to_contain_text(winner.name)
    shot(page, "public-contract")
    no_personal_data(page, never)

    # The winner's public profile, from the notice.
    page.goto(result_url)
    follow(page, page.locator(f"main a[href='/organizations/{winner.pk}/']").first)
    expect(page.locator("h1")).to_contain_text(winner.name)
    expect(page.locator("main")).to_contain_text(winner.uscc)
    shot(page, "public-organization")
    no_personal_data(page, never)

    # The statistics: every chart is an image that loads.
    page.goto("/statistics/")
    charts = page.locator("main img")
    assert charts.count() > 0
    for index in range(charts.count()):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        expect(chart).to_be_visible()
        assert chart.evaluate("img => img.complete && img.naturalWidth > 0"), index
    shot(page, "public-statistics")
    no_personal_data(page, never)

    # The open-data page links the OCDS feed and the downloads.
    page.goto("/public/")
    follow(page, page.get_by_role("link", name=t("Open data")).first)
    expect(page.locator("main a[href*='ocds']").first).to_be_visible()
    shot(page, "public-data")
    no_personal_data(page, never)
    assert_clean(page)
