"""Take the README's screenshots of the main pages in headless Chromium.

Usage: python scripts/screenshots.py [BASE_URL]   (default http://127.0.0.1:8000)
Needs a running site with the demo data (make run) and Debian's chromium.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSWORD = "jfb-demo-2026"


def sign_in(page: Page, username: str) -> None:
    page.goto(f"{BASE}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-grid button[type=submit]")
    page.wait_for_url(f"{BASE}/dashboard/")


def shoot(page: Page, name: str) -> None:
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(f"saved docs/screenshots/{name}.png")


def shoot_pdf(page: Page, link: str, name: str) -> None:
    """The first page of the PDF behind the link ``link`` (a CSS selector), as a PNG
    (pdftoppm, from Debian's poppler-utils)."""
    href = page.eval_on_selector(link, "a => a.href")
    response = page.request.get(href)
    if not response.ok:
        raise SystemExit(f"{href}: HTTP {response.status}")
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "document.pdf"
        pdf.write_bytes(response.body())
        subprocess.run(  # noqa: S603 - fixed arguments, a file this script wrote
            [
                "/usr/bin/pdftoppm",
                "-png",
                "-r",
                "80",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(pdf),
                str(OUT / name),
            ],
            check=True,
        )
    print(f"saved docs/screenshots/{name}.png")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        page = context.new_page()
        errors: list[str] = []
        page.on(
            "console",
            lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None,
        )

        page.goto(f"{BASE}/")
        shoot(page, "home-zh")
        page.goto(f"{BASE}/accounts/login/")
        shoot(page, "login-zh")
        page.goto(f"{BASE}/organizations/")
        shoot(page, "directory")
        page.click("#directory-results table tbody tr:first-child a")
        page.wait_for_load_state("networkidle")
        shoot(page, "organization-profile")
        page.goto(f"{BASE}/credit/")
        shoot(page, "credit-lists")
        page.goto(f"{BASE}/tenders/")
        shoot(page, "tenders")
        page.goto(f"{BASE}/public/")
        shoot(page, "portal")
        page.goto(f"{BASE}/public/results/")
        page.click("table tbody tr:first-child a[href*='/public/results/']")
        page.wait_for_load_state("networkidle")
        shoot(page, "portal-result")
        page.goto(page.url.replace("/public/results/", "/tenders/"))
        shoot_pdf(
            page, "a[href*='/reports/award_notice/'][href$='lang=zh-hans']", "pdf-award-notice"
        )
        page.goto(f"{BASE}/statistics/")
        shoot(page, "statistics")
        page.goto(f"{BASE}/public/data/")
        shoot(page, "portal-data")
        page.goto(f"{BASE}/tenders/?status=opened")
        page.click("#tender-results table tbody tr:first-child a, table tbody tr:first-child a")
        page.wait_for_load_state("networkidle")
        shoot(page, "tender-opened")
        for username in ("org_admin", "official", "registry"):
            sign_in(page, username)
            shoot(page, f"dashboard-{username}")
            if username == "org_admin":
                page.goto(f"{BASE}/organizations/mine/")
                shoot(page, "organization-manage")
                page.click("a[href$='/staff/']")
                page.wait_for_load_state("networkidle")
                shoot(page, "roster")
                page.goto(f"{BASE}/tenders/my-bids/")
                shoot(page, "my-bids")
                page.click("a[href*='/receipts/']")
                page.wait_for_load_state("networkidle")
                shoot(page, "bid-receipt")
            if username == "official":
                page.goto(f"{BASE}/tenders/workspace/")
                shoot(page, "tender-workspace")
            if username == "registry":
                page.goto(f"{BASE}/registry/")
                shoot(page, "registry-home")
            page.click("form.inline-form button")  # sign out
        # Evaluation and award: the official's ranking and panel pages, the award notice.
        sign_in(page, "official")
        page.goto(f"{BASE}/tenders/?status=evaluating")
        for href in page.eval_on_selector_all(
            "table tbody tr a[href^='/tenders/']", "links => links.map(a => a.getAttribute('href'))"
        ):
            page.goto(f"{BASE}{href}")
            ranking = page.query_selector("a[href$='/ranking/']")
            if ranking:
                ranking.click()
                page.wait_for_load_state("networkidle")
                shoot(page, "ranking")
                page.goto(page.url.replace("/ranking/", "/panel/"))
                shoot(page, "panel")
                break
        page.goto(f"{BASE}/tenders/?status=awarded")
        page.click("table tbody tr:first-child a")
        page.wait_for_load_state("networkidle")
        shoot(page, "award-notice")
        # Contracts: the withheld final payment, satisfaction results, an evaluation.
        page.goto(f"{BASE}/contracts/")
        page.click("table tbody a:has-text('文明劝导')")
        page.wait_for_load_state("networkidle")
        shoot(page, "contract-detail")
        contract_url = page.url
        page.click("a[href*='/evaluation/performance/']")
        page.wait_for_load_state("networkidle")
        shoot(page, "performance-evaluation")
        page.goto(contract_url)
        page.click("a[href$='/satisfaction/']")
        page.wait_for_load_state("networkidle")
        shoot(page, "satisfaction")
        page.click("form.inline-form button")
        sign_in(page, "org_admin")
        page.goto(f"{BASE}/contracts/")
        page.click("table tbody a:has-text('低保边缘')")
        page.wait_for_load_state("networkidle")
        page.click("a[href$='/delivery/']")
        page.wait_for_load_state("networkidle")
        shoot(page, "delivery")
        page.click("a[href$='/survey-sites/']")
        page.wait_for_load_state("networkidle")
        survey_url = page.eval_on_selector("a[href*='/survey/']", "a => a.href")
        page.click("form.inline-form button")
        sign_in(page, "assessor")
        page.goto(f"{BASE}/evaluation/performance/")
        for href in page.eval_on_selector_all(
            "a[href*='/evaluation/performance/']",
            "links => links.map(a => a.getAttribute('href'))",
        ):
            if not href.rstrip("/").split("/")[-1].isdigit():
                continue
            page.goto(f"{BASE}{href}")
            declare = page.query_selector("form[action$='/declare/'] button[type=submit]")
            if declare is None:
                continue
            declare.click()
            page.wait_for_load_state("networkidle")
            page.goto(f"{BASE}{href}scores/")
            shoot(page, "performance-assessor")
            break
        page.goto(f"{BASE}/evaluation/assignments/")
        shoot(page, "assessor-assignments")
        sheet = page.query_selector("a[href*='/evaluation/sheets/']")
        if sheet is None:
            seat = page.query_selector("a[href*='/sheets/']")
            if seat:
                seat.click()
                page.wait_for_load_state("networkidle")
                sheet = page.query_selector("a[href*='/evaluation/sheets/']")
        if sheet:
            sheet.click()
            page.wait_for_load_state("networkidle")
            shoot(page, "score-sheet")
        page.goto(f"{BASE}/grades/")
        page.click("table tbody tr:first-child a")
        page.wait_for_load_state("networkidle")
        shoot(page, "grade-scoring")
        page.click("form.inline-form button")
        sign_in(page, "auditor")
        page.goto(f"{BASE}/evaluation/integrity/")
        shoot(page, "integrity-queue")
        page.goto(f"{BASE}/evaluation/integrity/?kind=staff_on_public_payroll")
        page.click("table tbody tr:first-child a[href*='/integrity/flags/']")
        page.wait_for_load_state("networkidle")
        shoot(page, "integrity-flag")
        page.goto(f"{BASE}/audit/")
        shoot(page, "audit-log")
        page.select_option("#language-select", "en")
        page.wait_for_load_state("networkidle")
        shoot(page, "audit-log-en")
        page.goto(f"{BASE}/")
        shoot(page, "home-en")
        page.goto(f"{BASE}/api/docs/")
        page.wait_for_selector(".swagger-ui .info", timeout=15000)
        shoot(page, "api-docs")
        phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        mobile = phone.new_page()
        mobile.goto(f"{BASE}/")
        shoot(mobile, "home-mobile")
        mobile.goto(survey_url)
        shoot(mobile, "survey-mobile")
        browser.close()
        if errors:
            print("browser console errors:", *errors, sep="\n  ")
            sys.exit(1)


if __name__ == "__main__":
    main()
