"""Delivery reports (履约报告): filing rules, per-row spending errors, uploads checked by content,
acceptance and return and what they do to the milestone and its payment; the reminders
before and after a milestone's due date.

The active contract of ``tests.contract_support`` (milestones: 1 report 144000.00 due
2027-01-31, 2 mid-term evaluation due 2027-07-01, 3 final evaluation due 2027-12-31) is
built once for the module; each test rolls back to it.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import translation
from django.utils.module_loading import import_string

from marketplace.models import AuditAction, AuditEvent
from tenders.models import (
    Contract,
    ContractStatus,
    DeliveryDocument,
    DeliveryReport,
    DeliveryReportStatus,
    Milestone,
    MilestoneStatus,
)
from tenders.services import contracts as contract_services
from tenders.services import delivery as services
from tests import contract_support
from tests.conftest import Clock, building, module_database
from tests.contract_support import supplier_admin, supplier_member
from tests.tenders.test_award import AWARD_DAY, local

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
REPORT_DAY = local(2027, 1, 25, 10, 0)


@pytest.fixture(scope="module")
def _active_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[int]:
    with (
        module_database(django_db_blocker),
        building(django_db_blocker, start=AWARD_DAY, media=tmp_path_factory.mktemp("m")) as clock,
    ):
        yield contract_support.make_active_contract(clock).pk


@pytest.fixture
def contract(_active_once, db, clock: Clock) -> Contract:
    clock.set(REPORT_DAY)
    return Contract.objects.get(pk=_active_once)


def milestone(contract: Contract, sequence: int) -> Milestone:
    return Milestone.objects.get(contract=contract, sequence=sequence)


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def file_report(contract: Contract, sequence: int = 1, **overrides):
    data = {
        "milestone": milestone(contract, sequence),
        "actor": supplier_member(contract),
        "period_start": date(2027, 1, 4),
        "period_end": date(2027, 1, 24),
        "activities": "上门探访独居老人 120 人次，开展健康讲座 3 场。",
        "people_served": 86,
        "service_sessions": 12,
        "spending": [
            {"item": "人员经费", "budget": "30000", "spent": "28000.50"},
            {"item": "活动物资", "budget": "5000.00", "spent": "4200"},
        ],
        "uploads": [],
    }
    data.update(overrides)
    return services.delivery_report_file(**data)


def messages(exc: pytest.ExceptionInfo[ValidationError], field: str) -> list[str]:
    return exc.value.message_dict[field]


# --- Filing ---------------------------------------------------------------------------------


def test_a_member_of_the_supplier_files_the_report_and_the_milestone_is_reported(contract):
    mail.outbox.clear()
    report = file_report(contract, uploads=[upload("活动照片.png", PNG), upload("签到表.pdf", PDF)])

    assert report.status == DeliveryReportStatus.SUBMITTED
    assert milestone(contract, 1).status == MilestoneStatus.REPORTED
    assert report.spending == [
        {"item": "人员经费", "budget": "30000.00", "spent": "28000.50"},
        {"item": "活动物资", "budget": "5000.00", "spent": "4200.00"},
    ]
    assert (report.budget_total, report.spent_total) == (Decimal("35000.00"), Decimal("32200.50"))
    documents = {d.original_name: d for d in DeliveryDocument.objects.filter(report=report)}
    assert documents["活动照片.png"].kind == "photo"
    assert documents["签到表.pdf"].kind == "document"
    assert documents["签到表.pdf"].content_type == "application/pdf"
    event = AuditEvent.objects.get(action=AuditAction.DELIVERY_REPORT_FILED)
    assert event.object_id == str(report.pk)
    assert event.details["milestone"] == report.milestone_id
    assert len(event.details["documents"]) == 2


def test_filing_tells_the_officials_after_commit(contract, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        file_report(contract)
    assert [m.to for m in mail.outbox] == [[contract_support.official().email]]
    assert contract.reference in mail.outbox[0].subject


def test_the_supplier_learns_that_its_report_was_returned(
    contract, django_capture_on_commit_callbacks
):
    report = file_report(contract)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_report_return(
            report=report, actor=contract_support.official(), comment="请补充签到表"
        )
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted({supplier_admin(contract).email, supplier_member(contract).email})
    assert "请补充签到表" in mail.outbox[0].body


def test_spending_errors_name_the_row_and_the_column(contract):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        file_report(
            contract,
            spending=[
                {"item": "人员经费", "budget": "100", "spent": "90"},
                {"item": "活动物资", "budget": "100", "spent": "abc"},
                {"item": "", "budget": "-1", "spent": "1.234"},
            ],
        )
    assert messages(exc, "spending") == [
        "spending row 2: spent: not a number",
        "spending row 3: item: required",
        "spending row 3: budget: must not be negative",
        "spending row 3: spent: at most two decimal places",
    ]
    assert milestone(contract, 1).status == MilestoneStatus.PLANNED
    assert not DeliveryReport.objects.filter(contract=contract).exists()


def test_blank_spending_rows_are_left_out_but_keep_their_numbers(contract):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        file_report(
            contract,
            spending=[{"item": "", "budget": "", "spent": ""}, {"item": "x", "budget": "1"}],
        )
    assert messages(exc, "spending") == ["spending row 2: spent: required"]


def test_an_unknown_spending_column_is_refused(contract):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        file_report(contract, spending=[{"item": "x", "budget": "1", "spent": "1", "tax": "2"}])
    assert messages(exc, "spending") == ["spending row 1: tax: unknown column"]


def test_a_period_outside_the_service_period_is_refused_on_its_field(contract):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        file_report(contract, period_start=date(2026, 12, 1))
    assert "before the service period" in messages(exc, "period_start")[0]


def test_a_period_that_is_not_over_yet_is_refused(contract):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        file_report(contract, period_end=date(2027, 1, 30))
    assert "ends today at the latest" in messages(exc, "period_end")[0]


def test_a_period_ending_before_it_starts_is_refused(contract):
    with pytest.raises(ValidationError) as exc:
        file_report(contract, period_start=date(2027, 1, 20), period_end=date(2027, 1, 10))
    assert "period_end" in exc.value.message_dict


def test_activities_and_counts_are_required(contract):
    with pytest.raises(ValidationError) as exc:
        file_report(contract, activities="  ", people_served="many", service_sessions=-1)
    assert {"activities", "people_served", "service_sessions"} <= set(exc.value.message_dict)


def test_a_second_report_while_one_waits_for_review_is_refused(contract):
    file_report(contract)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        file_report(contract)
    assert exc.value.code == "invalid_state"
    assert "waits for review" in exc.value.messages[0]


@pytest.mark.parametrize("who", ["official", "other_org_admin", "outsider", "assessor", "auditor"])
def test_only_the_suppliers_people_file_reports(contract, who, request):
    with pytest.raises(PermissionDenied):
        file_report(contract, actor=request.getfixturevalue(who))


def test_a_terminated_contract_takes_no_reports(contract):
    contract_services.contract_terminate(
        contract=contract, actor=contract_support.official(), reason="机构严重违约"
    )
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        file_report(Contract.objects.get(pk=contract.pk))
    assert exc.value.code == "invalid_state"


# --- Uploads --------------------------------------------------------------------------------


def test_uploads_are_checked_by_content_not_by_name(contract):
    report = file_report(contract, uploads=[upload("photo.pdf", JPEG), upload("plan.bin", docx())])
    documents = {d.content_type: d for d in DeliveryDocument.objects.filter(report=report)}
    assert documents["image/jpeg"].original_name == "photo.jpg"
    assert documents["image/jpeg"].kind == "photo"
    assert documents[
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ].original_name == ("plan.docx")


def test_a_program_disguised_as_a_photo_is_refused_naming_the_file(contract):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        file_report(contract, uploads=[upload("照片.jpg", EXECUTABLE), upload("ok.pdf", PDF)])
    problems = messages(exc, "uploads")
    assert len(problems) == 1
    assert problems[0].startswith("照片.jpg: ")
    assert "program" in problems[0]
    assert not DeliveryReport.objects.filter(contract=contract).exists()
    assert milestone(contract, 1).status == MilestoneStatus.PLANNED


def test_too_many_files_are_refused(contract):
    files = [
        upload(f"{n}.pdf", PDF + str(n).encode()) for n in range(services.REPORT_MAX_FILES + 1)
    ]
    with pytest.raises(ValidationError) as exc:
        file_report(contract, uploads=files)
    assert "uploads" in exc.value.message_dict


def test_a_photo_over_its_size_limit_is_refused(contract, monkeypatch):
    monkeypatch.setattr(services, "PHOTO_MAX_BYTES", 32)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        file_report(contract, uploads=[upload("big.png", PNG)])
    assert "limit" in messages(exc, "uploads")[0]


# --- Review ---------------------------------------------------------------------------------


def test_accepting_a_report_milestone_releases_its_payment(contract):
    report = file_report(contract)
    official = contract_support.official()
    mail.outbox.clear()

    services.delivery_report_accept(report=report, actor=official, comment="资料齐全")

    report.refresh_from_db()
    paid = milestone(contract, 1)
    assert report.status == DeliveryReportStatus.ACCEPTED
    assert report.reviewed_by == official
    assert report.review_comment == "资料齐全"
    assert paid.status == MilestoneStatus.PAID
    assert paid.released_amount == Decimal("144000.00")
    assert paid.withheld_amount == Decimal("0")
    accepted = AuditEvent.objects.get(action=AuditAction.DELIVERY_REPORT_ACCEPTED)
    assert accepted.details["payment_released"] is True
    assert AuditEvent.objects.filter(action=AuditAction.MILESTONE_RELEASED).count() == 1


def test_accepting_the_report_of_an_evaluation_milestone_leaves_it_for_the_evaluation(
    contract, clock
):
    clock.set(local(2027, 6, 20, 9, 0))
    report = file_report(contract, 2, period_start=date(2027, 2, 1), period_end=date(2027, 6, 15))
    services.delivery_report_accept(report=report, actor=contract_support.official())

    assert DeliveryReport.objects.get(pk=report.pk).status == DeliveryReportStatus.ACCEPTED
    waiting = milestone(contract, 2)
    assert waiting.status == MilestoneStatus.REPORTED
    assert waiting.released_amount is None
    event = AuditEvent.objects.get(action=AuditAction.DELIVERY_REPORT_ACCEPTED)
    assert event.details["payment_released"] is False


def test_returning_needs_a_comment(contract):
    report = file_report(contract)
    with pytest.raises(ValidationError) as exc:
        services.delivery_report_return(
            report=report, actor=contract_support.official(), comment=" "
        )
    assert "comment" in exc.value.message_dict
    assert milestone(contract, 1).status == MilestoneStatus.REPORTED


def test_a_returned_report_plans_the_milestone_again_and_a_corrected_one_is_filed(contract):
    report = file_report(contract)
    services.delivery_report_return(
        report=report, actor=contract_support.official(), comment="请补充签到表"
    )

    report.refresh_from_db()
    assert report.status == DeliveryReportStatus.RETURNED
    assert report.review_comment == "请补充签到表"
    assert milestone(contract, 1).status == MilestoneStatus.PLANNED
    event = AuditEvent.objects.get(action=AuditAction.DELIVERY_REPORT_RETURNED)
    assert (event.state_before, event.state_after) == ("submitted", "returned")

    corrected = file_report(contract, uploads=[upload("签到表.pdf", PDF)])
    assert corrected.pk != report.pk
    assert DeliveryReport.objects.filter(contract=contract).count() == 2


@pytest.mark.parametrize("who", ["org_admin", "assessor", "auditor", "registry_admin"])
def test_only_officials_review_reports(contract, who, request):
    report = file_report(contract)
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        services.delivery_report_accept(report=report, actor=actor)
    with pytest.raises(PermissionDenied):
        services.delivery_report_return(report=report, actor=actor, comment="x")


def test_the_supplier_cannot_accept_its_own_report(contract):
    report = file_report(contract)
    with pytest.raises(PermissionDenied):
        services.delivery_report_accept(report=report, actor=supplier_admin(contract))


def test_a_reviewed_report_cannot_be_reviewed_again(contract):
    report = file_report(contract)
    official = contract_support.official()
    services.delivery_report_accept(report=report, actor=official)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.delivery_report_return(report=report, actor=official, comment="x")
    assert exc.value.code == "invalid_state"
    assert "reviewed already" in exc.value.messages[0]


# --- Reminders ------------------------------------------------------------------------------


def test_reminders_go_once_per_threshold_and_once_when_overdue(contract):
    due = milestone(contract, 1).due_date  # 2027-01-31

    assert services.milestones_remind(today=date(2027, 1, 20)) == 0
    mail.outbox.clear()
    assert services.milestones_remind(today=date(2027, 1, 24)) == 1  # 7 days before
    assert services.milestones_remind(today=date(2027, 1, 25)) == 0  # sent already
    assert milestone(contract, 1).reminded_days == [7]
    assert services.milestones_remind(today=date(2027, 1, 30)) == 1  # 1 day before
    assert services.milestones_remind(today=due) == 0
    assert services.milestones_remind(today=date(2027, 2, 1)) == 1  # overdue
    assert services.milestones_remind(today=date(2027, 2, 9)) == 0
    assert milestone(contract, 1).reminded_days == [services.OVERDUE_MARK, 1, 7]


def test_missed_thresholds_are_covered_by_one_reminder(contract):
    assert services.milestones_remind(today=date(2027, 1, 30)) == 1
    assert milestone(contract, 1).reminded_days == [1, 7]


def test_a_reported_milestone_is_not_reminded(contract):
    file_report(contract)
    assert services.milestones_remind(today=date(2027, 1, 30)) == 0


def test_a_contract_out_of_delivery_is_not_reminded(contract):
    contract_services.contract_terminate(
        contract=contract, actor=contract_support.official(), reason="机构严重违约"
    )
    assert Contract.objects.get(pk=contract.pk).status == ContractStatus.TERMINATED
    assert services.milestones_remind(today=date(2027, 1, 30)) == 0


def test_the_reminder_e_mail_reaches_the_suppliers_admins(
    contract, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.milestones_remind(today=date(2027, 1, 24))
    assert [m.to for m in mail.outbox] == [[supplier_admin(contract).email]]
    assert "2027-01-31" in mail.outbox[0].subject


def test_the_command_reminds_as_on_the_given_day(contract):
    out = io.StringIO()
    call_command("remind_milestones", "--today", "2027-01-24", stdout=out)
    assert out.getvalue().strip() == "1 milestone(s) reminded"
    assert milestone(contract, 1).reminded_days == [7]


def test_the_daily_task_is_scheduled_and_reminds(contract, clock):
    entry = next(e for e in settings.PERIODIC_TASKS if e[0].endswith("remind_milestones"))
    assert entry[1] == 24 * 60 * 60
    clock.set(local(2027, 1, 30, 8, 0))
    result = import_string(entry[0]).enqueue()  # the immediate backend runs it now
    assert result.return_value == 1
