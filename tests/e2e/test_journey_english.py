"""Browser journey in English: a visitor arrives on the Chinese site, switches to English
with the header's language switch, reads the disclosure portal and a tender, then signs in as
an organization's administrator, whose account speaks Chinese until the switch changes it
(the account keeps the choice for the next sign-in), and reads the dashboard and the
organization's bids. Every
page is in English: its heading and labels are the English texts, and no Chinese is left in
the chrome (header, navigation, footer, the street office's name included) apart from data
(the user's name, each language's own name in the switch).

Set up through the real services: a published tender with one organization's sealed bid.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.utils import translation
from playwright.sync_api import Page, expect

from marketplace.models import Role
from orgs_registry.models import ServiceCategory
from tests.conftest import make_user
from tests.e2e.support import (
    assert_clean,
    main_text,
    shot,
    sign_in,
    sign_out,
    switch_language,
    t,
)
from tests.tenders.conftest import make_bidder, publish_tender, submit_bid

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")
TITLE = "解放碑街道社区心理热线项目"
# The chrome without its data: the language switch names each language in itself, the user
# chip holds the user's name.
CHROME_TEXT = """() => {
  const parts = [];
  for (const selector of ['header.site-header', '#site-nav', 'footer.site-footer']) {
    const element = document.querySelector(selector);
    if (!element) continue;
    const copy = element.cloneNode(true);
    copy.querySelectorAll('#language-select, .user-chip').forEach(e => e.remove());
    parts.push(copy.innerText);
  }
  return parts.join('\\n');
}"""


def english(message: str) -> str:
    return t(message, "en")


def assert_english_chrome(page: Page) -> None:
    """The page is in English and its chrome holds no Chinese outside the data."""
    expect(page.locator("html")).to_have_attribute("lang", "en")
    chrome = page.evaluate(CHROME_TEXT)
    assert CJK.findall(chrome) == [], (page.url, CJK.findall(chrome))
    expect(page.locator(".brand-title")).to_have_text(english("Community service marketplace"))
    expect(page.locator("#site-nav")).to_contain_text(english("Tenders"))
    with translation.override("en"):
        office = str(settings.STREET_OFFICE["name"])
    expect(page.locator(".brand-office")).to_have_text(office)


def test_a_visitor_switches_to_english_and_signs_in_as_an_organization(browse):
    official = make_user("official", Role.OFFICIAL)
    approver = make_user("approver", Role.APPROVER)
    tender = publish_tender(
        official=official,
        approver=approver,
        category=ServiceCategory.objects.get(code="elderly_care"),
        title=TITLE,
    )
    bidder = make_bidder("渝中区心语社会工作服务中心")
    submit_bid(tender, bidder, "380000")

    # The visitor's browser asks for Chinese; the header's switch changes it.
    page = browse()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator(".brand-title")).to_have_text(t("Community service marketplace"))
    switch_language(page, "en")
    assert_english_chrome(page)
    shot(page, "english-home")

    # The disclosure portal and the tender, in English around the Chinese data.
    page.goto("/public/")
    assert_english_chrome(page)
    expect(page.locator("main")).to_contain_text(english("Award notices"))
    page.goto("/tenders/")
    assert_english_chrome(page)
    with page.expect_navigation():
        page.get_by_role("link", name=TITLE).click()
    assert_english_chrome(page)
    assert TITLE in main_text(page)
    shot(page, "english-tender")
    assert_clean(page)

    # The organization's administrator signs in: the account's language (Chinese) wins over
    # the browser's last choice; the switch changes it again, and the account keeps it.
    sign_in(page, bidder.admin)
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    switch_language(page, "en")
    assert_english_chrome(page)
    sign_out(page)
    sign_in(page, bidder.admin)
    assert_english_chrome(page)
    with translation.override("en"):
        role = str(Role.ORG_ADMIN.label)
    expect(page.locator(".user-chip")).to_contain_text(role)
    page.goto("/dashboard/")
    assert_english_chrome(page)
    shot(page, "english-dashboard-organization")
    page.goto("/tenders/my-bids/")
    assert_english_chrome(page)
    expect(page.locator("main")).to_contain_text(TITLE)
    expect(page.locator("main")).to_contain_text(english("Submitted (sealed)"))
    shot(page, "english-my-bids")
    assert_clean(page)
