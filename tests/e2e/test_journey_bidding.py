"""Browser journeys of bidding: an organization from registration to its result, and the
officials from the draft to the award and a challenge (Chinese interface)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.support import assert_clean, screenshot_dir, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_home_page_loads_in_chinese_with_its_styles(browse):
    page = browse()
    page.goto("/")

    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator(".brand-title")).to_have_text("政府购买社区服务平台")
    expect(page.get_by_role("link", name="登录").first).to_be_visible()
    assert_clean(page)
    path = shot(page, "home")
    assert path.parent == screenshot_dir()
    assert path.read_bytes().startswith(b"\x89PNG")
