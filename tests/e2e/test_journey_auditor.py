"""Browser journey of an auditor (Chinese interface): sign in with the second factor, import
the staffing roster (编制) as an Excel file through the upload page, run the integrity screens
from the queue, find the double-funding flag (a bid's social worker holds a fully funded
public post) and confirm it with a note; the flag's status changes.

Set up through the real services: a tender whose four bids were opened, each with a staffing
plan naming two of its organization's social workers (``tests.evaluation.conftest``; the
screens read bids once they are opened). Background tasks
run immediately in tests (``TASKS_BACKEND=immediate``): the import and the screens finish
within the requests that queue them, as a worker would shortly after.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from evaluation.models import FlagKind, FlagStatus, IntegrityFlag
from marketplace.models import AuditAction, AuditEvent, Role
from orgs_registry.funding_import import STAFFING_COLUMNS
from orgs_registry.models import FundingImport, FundingImportStatus, Person, ServiceCategory
from tests.conftest import make_user, patch_clock
from tests.e2e.support import (
    assert_clean,
    expect_message,
    fill_by_name,
    opened_tender,
    shot,
    sign_in,
    submit_form,
    t,
)
from tests.otp_support import confirmed_device
from tests.tenders.test_award import RANKED_AT

SCREENS_TIMEOUT_MS = 180_000
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

UNIT = "渝中区人民医院"
KIND = t("Staff on the public payroll")
NOTE = "经核实，该社工同时在区人民医院全额拨款事业编制在岗，已移交纪检部门。"


def roster_xlsx(person: Person) -> dict:
    """The roster as the personnel office exports it: Chinese headers, one post per row;
    the bid's social worker holds a fully funded post, the other row is someone else."""
    book = Workbook()
    sheet = book.active
    sheet.append(list(STAFFING_COLUMNS.values()))
    sheet.append(
        [person.name, person.id_number, UNIT, "", "事业编制", "全额拨款", "", "2020-01-01", ""]
    )
    sheet.append(
        [
            "陈建国",
            "500103197001010018",
            "解放碑街道办事处",
            "",
            "行政编制",
            "全额拨款",
            "",
            "2015-03-01",
            "",
        ]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return {
        "name": "2026年编制花名册.xlsx",
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "buffer": buffer.getvalue(),
    }


@pytest.fixture
def clock(monkeypatch, settings):
    """The journey's clock (the bids are opened past their deadline), on the award tests'
    working day; sessions outlast its jumps."""
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 120
    return patch_clock(monkeypatch, RANKED_AT)


def test_an_auditor_imports_the_roster_and_confirms_a_double_funding_flag(browse, clock, settings):
    official = make_user("official", Role.OFFICIAL)
    approver = make_user("approver", Role.APPROVER)
    auditor = make_user("auditor", Role.AUDITOR, full_name="审计员赵静")
    confirmed_device(auditor)  # the authenticator app set up before
    category = ServiceCategory.objects.get(code="elderly_care")
    # The opening queues a run of the screens (in the database: nothing runs it here); the
    # auditor's import and run below execute at once, as a worker would shortly after.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    opened = opened_tender(
        clock,
        official=official,
        approver=approver,
        category=category,
        review=False,
        title="解放碑街道居家养老上门服务项目",
    )
    settings.TASKS = IMMEDIATE_TASKS
    tender = opened.tender
    bidder = opened.bidders[0]
    worker = Person.objects.get(pk=bidder.staff_ids[0])

    page = browse()
    sign_in(page, auditor)

    # The roster: from the registries' versions to the upload form; the file is checked
    # and written, and its version becomes the current one.
    page.goto("/funding/")
    expect(page.locator("main")).to_contain_text(t("None imported yet."))
    page.get_by_role("link", name=t("Import a file")).click()
    fill_by_name(page, {"kind": "staffing", "note": "区委编办2026年一季度花名册"})
    page.locator("input[type=file][name=file]").set_input_files(roster_xlsx(worker))
    shot(page, "funding-upload")
    submit_form(page.locator("main form").filter(has=page.locator("[name=file]")))
    expect_message(page, t("The file was received; its rows are being checked."))
    progress = page.locator("#funding-progress")
    expect(progress.locator(".badge")).to_have_text(t("Imported", context="import status"))
    expect(progress).to_contain_text("2")
    expect(page.locator("main")).to_contain_text(t("current"))
    shot(page, "funding-import")
    assert_clean(page)
    imported = FundingImport.objects.get()
    assert imported.status == FundingImportStatus.DONE
    assert imported.row_count == 2
    assert imported.imported_by == auditor

    # The screens: from the queue, over every tender; the run's page shows the finding.
    page.goto("/evaluation/integrity/")
    # The run executes inside this request here (immediate tasks), and the first run in a
    # process trains the record-linkage model: allow it the time a worker would take.
    with page.expect_navigation(timeout=SCREENS_TIMEOUT_MS):
        page.get_by_role("button", name=t("Run every screen")).click(no_wait_after=True)
    expect_message(page, t("The screens are queued; this page shows their progress."))
    expect(page.locator("main")).to_contain_text(KIND)
    shot(page, "integrity-run")
    page.get_by_role("link", name=t("To the queue")).click()

    # The flag in the queue, then its page: the bid's person beside the roster post.
    flag = IntegrityFlag.objects.get(kind=FlagKind.STAFF_ON_PUBLIC_PAYROLL)
    assert flag.status == FlagStatus.OPEN
    row = page.locator("main tbody tr").filter(has_text=worker.name)
    expect(row).to_contain_text(tender.reference)
    row.get_by_role("link", name=KIND).click()
    expect(page.locator("h1")).to_have_text(KIND)
    side_by_side = page.locator("section[aria-labelledby='compare-heading']")
    expect(side_by_side).to_contain_text(worker.id_number)  # auditors read whole numbers
    expect(page.locator("main")).to_contain_text(UNIT)
    expect(page.locator("main .badge.flag-open")).to_be_visible()

    # The auditor confirms it with a note; the flag's status changes on the page.
    confirm = page.locator("form[action$='/confirm/']")
    fill_by_name(confirm, {"note": NOTE})
    submit_form(confirm)
    expect_message(page, t("The flag is confirmed."))
    expect(page.locator("main .badge.flag-confirmed")).to_be_visible()
    expect(page.locator("main")).to_contain_text(NOTE)
    expect(page.locator("main")).to_contain_text(auditor.get_full_name())
    expect(page.locator("main .badge.flag-open")).to_have_count(0)
    shot(page, "integrity-flag-confirmed")
    assert_clean(page)

    flag.refresh_from_db()
    assert flag.status == FlagStatus.CONFIRMED
    assert flag.review_note == NOTE
    assert flag.reviewed_by == auditor
    assert AuditEvent.objects.filter(
        action=AuditAction.INTEGRITY_FLAG_CONFIRMED, actor=auditor
    ).exists()
