"""Contracts, their team, milestones and payments, delivery reports and beneficiary surveys
(DESIGN.md 3 and 4.5).

A contract is drawn up from the active award once the challenge window is over, signed by
both sides within 30 days of the award notice, and published with personal data masked. Its
price is paid by milestones, each tied to an accepted delivery report or to a third-party
performance evaluation (``evaluation.PerformanceEvaluation``) whose grade releases or
withholds the payment.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from orgs_registry.models import Organization, Person
from tenders import contracting


def _english() -> bool:
    return (get_language() or "").startswith("en")


class PerformanceGrade(models.TextChoices):
    """优 / 良 / 中 / 差 (DESIGN 4.5)."""

    EXCELLENT = "excellent", _("Excellent")
    GOOD = "good", _("Good")
    FAIR = "fair", _("Fair")
    POOR = "poor", _("Poor")


class Programme(models.Model):
    """A purchase programme (购买服务计划): the payment plan and pass grade of its contracts.

    ``payment_plan`` is a list of steps, each ``{"share": "30", "kind": "report" |
    "evaluation", "evaluation": "mid_term" | "final", "title": ..., "title_en": ...}``,
    checked by ``tenders.contracting.plan_problems``.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=160)
    payment_plan = models.JSONField(
        _("payment plan"),
        default=list,
        encoder=DjangoJSONEncoder,
        help_text=_("The share of the price paid at each milestone, adding up to 100."),
    )
    pass_grade = models.CharField(
        _("grade needed for payment"),
        max_length=10,
        choices=PerformanceGrade.choices,
        default=PerformanceGrade.FAIR,
        help_text=_("A milestone tied to an evaluation is paid only at this grade or better."),
    )
    is_default = models.BooleanField(_("default programme"), default=False)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["-is_default", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_programme"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if _english() else self.name_zh

    def split_label(self) -> str:
        return "/".join(str(step.get("share")) for step in self.payment_plan)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        problems = contracting.plan_problems(self.payment_plan or [])
        if problems:
            raise ValidationError({"payment_plan": "; ".join(problems)})


class ContractStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("contract", "Draft")
    SIGNED = "signed", _("Signed")
    ACTIVE = "active", _("In delivery")
    COMPLETED = "completed", pgettext_lazy("contract", "Completed")
    TERMINATED = "terminated", _("Terminated")


# States in which the public sees a contract (a draft is between the two parties).
PUBLIC_CONTRACT_STATES = frozenset(
    {
        ContractStatus.SIGNED,
        ContractStatus.ACTIVE,
        ContractStatus.COMPLETED,
        ContractStatus.TERMINATED,
    }
)


class Contract(ConcurrentTransitionMixin, models.Model):
    """The contract for one awarded tender (DESIGN 3: draft → signed → active → completed |
    terminated)."""

    reference = models.CharField(_("contract number"), max_length=40, unique=True)
    tender = models.OneToOneField(
        "tenders.Tender",
        verbose_name=_("tender"),
        on_delete=models.PROTECT,
        related_name="contract",
    )
    award = models.OneToOneField(
        "tenders.Award", verbose_name=_("award"), on_delete=models.PROTECT, related_name="contract"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("supplier"),
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    programme = models.ForeignKey(
        Programme, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="contracts"
    )
    title = models.CharField(pgettext_lazy("contract", "title"), max_length=200)
    price = models.DecimalField(_("contract price"), max_digits=14, decimal_places=2)
    service_start = models.DateField(_("service starts"))
    service_end = models.DateField(_("service ends"))
    long_term_reason = models.TextField(
        _("reason for a term over one year"),
        blank=True,
        max_length=2000,
        help_text=_("Only stable, recurring services may run longer than one year (up to three)."),
    )
    deliverables = models.TextField(_("deliverables"), max_length=20000)
    # Copied from the programme when the contract is drawn up: later changes to the
    # programme do not change signed terms.
    pass_grade = models.CharField(
        _("grade needed for payment"), max_length=10, choices=PerformanceGrade.choices
    )
    sign_due = models.DateField(_("to be signed by"))
    status = FSMField(
        _("status"), default=ContractStatus.DRAFT, choices=ContractStatus.choices, protected=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drawn up by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    purchaser_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed for the purchaser by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    purchaser_signed_at = models.DateTimeField(_("signed by the purchaser"), null=True, blank=True)
    supplier_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed for the supplier by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    supplier_signed_at = models.DateTimeField(_("signed by the supplier"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    started_at = models.DateTimeField(_("delivery started"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    terminated_at = models.DateTimeField(_("terminated"), null=True, blank=True)
    termination_reason = models.TextField(_("reason for termination"), blank=True, max_length=4000)
    terminated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("terminated by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["organization", "status"], name="contract_org_status_idx"),
            models.Index(fields=["status", "service_end"], name="contract_status_end_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="contract_price_positive"),
            models.CheckConstraint(
                condition=Q(service_end__gte=models.F("service_start")),
                name="contract_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("tenders:contract_detail", args=[self.pk])

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_CONTRACT_STATES

    @property
    def term_days(self) -> int:
        return (self.service_end - self.service_start).days + 1

    @transition(field=status, source=ContractStatus.DRAFT, target=ContractStatus.SIGNED)
    def sign(self) -> None:
        """The second of the two signatures: the contract is binding and published."""

    @transition(field=status, source=ContractStatus.SIGNED, target=ContractStatus.ACTIVE)
    def start(self) -> None:
        """The service period began; delivery reports are due from now on."""

    @transition(field=status, source=ContractStatus.ACTIVE, target=ContractStatus.COMPLETED)
    def complete(self) -> None:
        """Every milestone was settled after the final evaluation."""

    @transition(
        field=status,
        source=[ContractStatus.DRAFT, ContractStatus.SIGNED, ContractStatus.ACTIVE],
        target=ContractStatus.TERMINATED,
    )
    def terminate(self) -> None:
        """Ended early, with a public reason; unsettled milestones are not paid."""


class ContractTeamMember(models.Model):
    """A person of the contract's service team: first the bid's staffing plan, then the
    approved changes (a left member keeps the row with ``left_on``)."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="team"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="contract_teams"
    )
    role = models.CharField(pgettext_lazy("job", "role"), max_length=60)
    fte = models.DecimalField(_("full-time equivalent"), max_digits=3, decimal_places=2)
    from_bid = models.BooleanField(_("in the bid's staffing plan"), default=False)
    joined_on = models.DateField(_("joined"))
    left_on = models.DateField(_("left"), null=True, blank=True)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("service team")
        ordering = ["contract", "left_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "person"],
                condition=Q(left_on__isnull=True),
                name="one_current_team_seat_per_person",
            ),
            models.CheckConstraint(
                condition=Q(fte__gt=0) & Q(fte__lte=Decimal("1")), name="team_fte_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.role}"

    @property
    def is_current(self) -> bool:
        return self.left_on is None


class TeamChangeKind(models.TextChoices):
    ADD = "add", _("Add a person")
    REMOVE = "remove", _("Remove a person")
    REPLACE = "replace", _("Replace a person")


class TeamChangeStatus(models.TextChoices):
    REQUESTED = "requested", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class TeamChange(ConcurrentTransitionMixin, models.Model):
    """A change of the service team asked by the supplier and decided by an official."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="team_changes"
    )
    kind = models.CharField(
        pgettext_lazy("team change", "kind"), max_length=10, choices=TeamChangeKind.choices
    )
    leaving = models.ForeignKey(
        ContractTeamMember,
        verbose_name=_("leaving"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    joining = models.ForeignKey(
        Person,
        verbose_name=_("joining"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    role = models.CharField(pgettext_lazy("job", "role"), max_length=60, blank=True)
    fte = models.DecimalField(
        _("full-time equivalent"), max_digits=3, decimal_places=2, null=True, blank=True
    )
    reason = models.TextField(_("reason"), max_length=2000)
    status = FSMField(
        _("status"),
        default=TeamChangeStatus.REQUESTED,
        choices=TeamChangeStatus.choices,
        protected=True,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("team change")
        verbose_name_plural = _("team changes")
        ordering = ["contract", "-requested_at"]

    def __str__(self) -> str:
        return f"{self.contract.reference} {self.get_kind_display()}"

    @transition(field=status, source=TeamChangeStatus.REQUESTED, target=TeamChangeStatus.APPROVED)
    def approve(self) -> None:
        """An official approved it; the team is changed from today."""

    @transition(field=status, source=TeamChangeStatus.REQUESTED, target=TeamChangeStatus.REJECTED)
    def reject(self) -> None:
        """An official refused it, with a note."""


class MilestoneKind(models.TextChoices):
    REPORT = "report", _("Accepted delivery report")
    EVALUATION = "evaluation", _("Performance evaluation")


class EvaluationKind(models.TextChoices):
    MID_TERM = "mid_term", _("Mid-term evaluation")
    FINAL = "final", _("Final evaluation")


class MilestoneStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    REPORTED = "reported", _("Report filed")
    EVALUATED = "evaluated", _("Checked, waiting for payment")
    PAID = "paid", _("Paid")
    WITHHELD = "withheld", _("Payment withheld")


SETTLED_MILESTONE_STATES = frozenset({MilestoneStatus.PAID, MilestoneStatus.WITHHELD})


class Milestone(ConcurrentTransitionMixin, models.Model):
    """One step of the payment plan (DESIGN 3: planned → reported → evaluated → paid |
    withheld). A report milestone is checked by accepting its delivery report; an evaluation
    milestone by the grade of its performance evaluation against the contract's pass grade."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="milestones"
    )
    sequence = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(pgettext_lazy("milestone", "title"), max_length=120)
    title_en = models.CharField(_("English title"), max_length=160, blank=True)
    kind = models.CharField(_("tied to"), max_length=12, choices=MilestoneKind.choices)
    evaluation_kind = models.CharField(
        _("evaluation"), max_length=10, choices=EvaluationKind.choices, blank=True
    )
    share = models.DecimalField(_("share of the price (%)"), max_digits=5, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    due_date = models.DateField(_("due"))
    status = FSMField(
        _("status"),
        default=MilestoneStatus.PLANNED,
        choices=MilestoneStatus.choices,
        protected=True,
    )
    released_amount = models.DecimalField(
        _("released"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    withheld_amount = models.DecimalField(
        _("withheld"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    decision_reason = models.TextField(_("reason"), blank=True, max_length=4000)
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=60, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("settled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reminded_days = models.JSONField(
        _("reminders sent (days before due)"), default=list, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["contract", "sequence"]
        indexes = [models.Index(fields=["status", "due_date"], name="milestone_status_due_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "sequence"], name="milestone_sequence_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="milestone_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind="report", evaluation_kind="")
                | Q(kind="evaluation", evaluation_kind__in=["mid_term", "final"]),
                name="milestone_kind_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference} #{self.sequence} {self.label}"

    @property
    def label(self) -> str:
        return (self.title_en or self.title) if _english() else self.title

    @property
    def is_settled(self) -> bool:
        return self.status in SETTLED_MILESTONE_STATES

    @transition(field=status, source=MilestoneStatus.PLANNED, target=MilestoneStatus.REPORTED)
    def report(self) -> None:
        """The supplier filed the delivery report for this milestone."""

    @transition(field=status, source=MilestoneStatus.REPORTED, target=MilestoneStatus.PLANNED)
    def return_report(self) -> None:
        """The official returned the report with comments; a corrected one is due."""

    @transition(
        field=status,
        source=[MilestoneStatus.PLANNED, MilestoneStatus.REPORTED],
        target=MilestoneStatus.EVALUATED,
    )
    def mark_checked(self) -> None:
        """The report was accepted (report milestone) or the evaluation filed (evaluation
        milestone)."""

    @transition(field=status, source=MilestoneStatus.EVALUATED, target=MilestoneStatus.PAID)
    def release(self) -> None:
        """The payment is released (the result met the threshold), then recorded as paid."""

    @transition(
        field=status,
        source=[MilestoneStatus.PLANNED, MilestoneStatus.REPORTED, MilestoneStatus.EVALUATED],
        target=MilestoneStatus.WITHHELD,
    )
    def withhold(self) -> None:
        """Not paid, with the reason: the grade missed the threshold or the contract ended."""


class DeliveryReportStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Waiting for review")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned for changes")


class DeliveryReport(ConcurrentTransitionMixin, models.Model):
    """A periodic delivery report (履约报告) for one milestone. A returned report stays on
    record; the supplier files a corrected one."""

    milestone = models.ForeignKey(
        Milestone, verbose_name=_("milestone"), on_delete=models.PROTECT, related_name="reports"
    )
    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="reports"
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    activities = models.TextField(_("activities"), max_length=20000)
    people_served = models.PositiveIntegerField(_("people served"))
    service_sessions = models.PositiveIntegerField(_("service sessions"), default=0)
    # [{"item": "...", "budget": "1000.00", "spent": "900.00"}]
    spending = models.JSONField(
        _("spending against budget"), default=list, blank=True, encoder=DjangoJSONEncoder
    )
    status = FSMField(
        _("status"),
        default=DeliveryReportStatus.SUBMITTED,
        choices=DeliveryReportStatus.choices,
        protected=True,
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("filed"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_comment = models.TextField(_("official's comments"), blank=True, max_length=4000)

    class Meta:
        verbose_name = _("delivery report")
        verbose_name_plural = _("delivery reports")
        ordering = ["contract", "-submitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="report_period_ordered",
            ),
            # One report under review per milestone at a time.
            models.UniqueConstraint(
                fields=["milestone"],
                condition=Q(status="submitted"),
                name="one_pending_report_per_milestone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference} {self.period_start}–{self.period_end}"

    @property
    def budget_total(self) -> Decimal:
        return sum((Decimal(str(line.get("budget", 0))) for line in self.spending), Decimal(0))

    @property
    def spent_total(self) -> Decimal:
        return sum((Decimal(str(line.get("spent", 0))) for line in self.spending), Decimal(0))

    @transition(
        field=status, source=DeliveryReportStatus.SUBMITTED, target=DeliveryReportStatus.ACCEPTED
    )
    def accept(self) -> None:
        """The official accepted the report."""

    @transition(
        field=status, source=DeliveryReportStatus.SUBMITTED, target=DeliveryReportStatus.RETURNED
    )
    def send_back(self) -> None:
        """The official returned the report with comments."""


class DeliveryDocumentKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    DOCUMENT = "document", _("Document")


def _delivery_document_path(instance: DeliveryDocument, filename: str) -> str:
    return f"contracts/{instance.report.contract_id}/{instance.sha256[:2]}/{instance.sha256}"


class DeliveryDocument(models.Model):
    """A photo or document of a delivery report; served as an attachment, never inline."""

    report = models.ForeignKey(
        DeliveryReport,
        verbose_name=_("delivery report"),
        on_delete=models.CASCADE,
        related_name="documents",
    )
    kind = models.CharField(
        pgettext_lazy("document", "kind"), max_length=10, choices=DeliveryDocumentKind.choices
    )
    file = models.FileField(_("file"), upload_to=_delivery_document_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery document")
        verbose_name_plural = _("delivery documents")
        ordering = ["report", "pk"]

    def __str__(self) -> str:
        return self.original_name


def _survey_token() -> str:
    return secrets.token_urlsafe(16)


class SurveySite(models.Model):
    """A place where the service is delivered, with its own public survey link and QR code."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="survey_sites"
    )
    name = models.CharField(_("service site"), max_length=120)
    community = models.ForeignKey(
        "tenders.Community",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The link's secret part: unguessable, so answers come from people shown the code.
    token = models.CharField(_("link key"), max_length=40, unique=True, default=_survey_token)
    is_open = models.BooleanField(_("accepting answers"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("survey site")
        verbose_name_plural = _("survey sites")
        ordering = ["contract", "pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("tenders:survey", args=[self.token])


class SurveyResponse(models.Model):
    """One beneficiary's answer for one survey period. No login: the respondent is known
    only by a keyed hash of the phone number they give, never by the number itself."""

    site = models.ForeignKey(
        SurveySite,
        verbose_name=_("service site"),
        on_delete=models.PROTECT,
        related_name="responses",
    )
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="survey_responses",
    )
    period = models.CharField(_("period"), max_length=7)
    respondent = models.CharField(_("respondent key"), max_length=64, editable=False)
    address = models.CharField(_("network address key"), max_length=64, editable=False)
    overall = models.PositiveSmallIntegerField(_("overall satisfaction"))
    quality = models.PositiveSmallIntegerField(_("quality of the service"))
    attitude = models.PositiveSmallIntegerField(_("staff attitude"))
    timeliness = models.PositiveSmallIntegerField(_("timeliness"))
    comment = models.TextField(_("comment"), blank=True, max_length=500)
    submitted_at = models.DateTimeField(_("answered"))

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["contract", "-submitted_at"]
        indexes = [
            models.Index(fields=["site", "address", "submitted_at"], name="survey_address_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "period", "respondent"], name="one_answer_per_person_period"
            ),
            models.CheckConstraint(
                condition=Q(overall__gte=1, overall__lte=5)
                & Q(quality__gte=1, quality__lte=5)
                & Q(attitude__gte=1, attitude__lte=5)
                & Q(timeliness__gte=1, timeliness__lte=5),
                name="survey_ratings_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference} {self.period} {self.overall}"
