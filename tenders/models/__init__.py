"""Service projects bought by open tender, and the sealed bids for them (DESIGN.md 3, 4.2, 4.3, 6).

A bid's price, staffing plan, technical proposal and documents are sealed: before the
opening they exist only encrypted (``tenders.sealing``), readable by the bidding
organization alone. The opening copies them into the plain columns below.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from orgs_registry.models import Organization, Person, ServiceCategory


class Community(models.Model):
    """A community (社区) of the street office: where a service is delivered."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=80)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh


class ProcurementMethod(models.TextChoices):
    PUBLIC_TENDER = "public_tender", _("Open tender")
    COMPETITIVE_CONSULTATION = "competitive_consultation", _("Competitive consultation")


class PurchaseNature(models.TextChoices):
    """What is bought; everything but a service is on the negative list (102号令 Art. 10)."""

    SERVICE = "service", _("A public service delivered by the supplier")
    OUTSIDE_GOVERNMENT_DUTIES = (
        "outside_government_duties",
        _("Something outside the government's responsibilities"),
    )
    DIRECT_GOVERNMENT_DUTIES = (
        "direct_government_duties",
        _("A duty the government must perform itself"),
    )
    STAFF_HIRING = "staff_hiring", _("Hiring staff for the purchasing unit")
    LABOUR_DISPATCH = "labour_dispatch", _("Labour dispatch")
    PUBLIC_WELFARE_POSTS = "public_welfare_posts", _("Public-welfare posts")
    FINANCING = "financing", _("Financing or borrowing")
    GOODS_OR_WORKS = "goods_or_works", _("Goods or construction works")


class TenderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending_approval", _("Waiting for approval")
    PUBLISHED = "published", _("Open for bids")
    CLOSED = "closed", _("Closed, waiting for the opening")
    OPENED = "opened", _("Bids opened")
    EVALUATING = "evaluating", _("Being evaluated")
    AWARDED = "awarded", _("Awarded")
    CONTRACTED = "contracted", _("Contract signed")
    IN_DELIVERY = "in_delivery", _("Service in delivery")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed (not enough valid bids)")


# States in which the public sees a tender (a draft or one waiting for approval is internal).
PUBLIC_TENDER_STATES = frozenset(set(TenderStatus.values) - {"draft", "pending_approval"})
# States before the contract, from which a tender may still be cancelled.
CANCELLABLE_STATES = [
    TenderStatus.DRAFT,
    TenderStatus.PENDING_APPROVAL,
    TenderStatus.PUBLISHED,
    TenderStatus.CLOSED,
    TenderStatus.OPENED,
    TenderStatus.EVALUATING,
    TenderStatus.AWARDED,
]


class TieRule(models.TextChoices):
    """How bids with equal total and equal price are ordered (DESIGN 4.4)."""

    DRAW = "draw", _("A recorded random draw")
    TECHNICAL = "technical", _("Higher score on the criteria other than price, then a draw")


class Tender(ConcurrentTransitionMixin, models.Model):
    """One service project, bought by open tender or competitive consultation."""

    reference = models.CharField(
        _("reference"), max_length=30, blank=True, help_text=_("Assigned at publication.")
    )
    title = models.CharField(pgettext_lazy("tender", "title"), max_length=200)
    description = models.TextField(pgettext_lazy("tender", "description"), max_length=20000)
    category = models.ForeignKey(
        ServiceCategory, verbose_name=_("service category"), on_delete=models.PROTECT
    )
    method = models.CharField(
        _("procurement method"), max_length=32, choices=ProcurementMethod.choices
    )
    purchase_nature = models.CharField(
        _("what is bought"),
        max_length=32,
        choices=PurchaseNature.choices,
        default=PurchaseNature.SERVICE,
    )
    budget = models.DecimalField(_("budget ceiling"), max_digits=14, decimal_places=2)
    service_start = models.DateField(_("service starts"), null=True, blank=True)
    service_end = models.DateField(_("service ends"), null=True, blank=True)
    communities = models.ManyToManyField(
        Community,
        verbose_name=_("service area"),
        blank=True,
        related_name="tenders",
        help_text=_("Leave empty for the whole street office."),
    )
    eligibility_notes = models.TextField(_("eligibility notes"), blank=True, max_length=4000)
    question_deadline = models.DateTimeField(_("questions until"))
    bid_deadline = models.DateTimeField(_("bid deadline (and opening)"))
    documents_until = models.DateField(_("tender documents available until"), null=True, blank=True)
    status = FSMField(
        _("status"), default=TenderStatus.DRAFT, choices=TenderStatus.choices, protected=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drafted by"),
        on_delete=models.PROTECT,
        related_name="tenders_drafted",
    )
    submitted_at = models.DateTimeField(_("sent for approval"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tenders_approved",
    )
    return_note = models.TextField(_("approver's note"), blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancellation"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    failed_reason = models.TextField(_("reason the tender failed"), blank=True)
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)
    tie_rule = models.CharField(
        _("tie rule"),
        max_length=12,
        choices=TieRule.choices,
        default=TieRule.DRAW,
        help_text=_("How bids with equal total and equal price are ordered."),
    )
    trim_extremes = models.BooleanField(
        _("drop the highest and lowest score"),
        default=False,
        help_text=_(
            "With seven or more members, each subjective score drops one highest and "
            "one lowest member score before the mean."
        ),
    )
    scheme_template = models.CharField(
        _("scheme template"),
        max_length=160,
        blank=True,
        help_text=_("The template the criteria were taken from, if any."),
    )
    awarded_at = models.DateTimeField(_("awarded"), null=True, blank=True)
    programme = models.ForeignKey(
        "tenders.Programme",
        verbose_name=_("programme"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tenders",
        help_text=_("Sets the contract's payment plan; the default programme when empty."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("tender")
        verbose_name_plural = _("tenders")
        ordering = ["-bid_deadline", "-pk"]
        indexes = [
            models.Index(fields=["status", "bid_deadline"], name="tender_status_deadline_idx"),
            models.Index(fields=["category", "status"], name="tender_category_idx"),
            # The lists' order (latest deadline first): a page is read from the index.
            models.Index(fields=["-bid_deadline", "-id"], name="tender_deadline_order_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(budget__gt=0), name="tender_budget_positive"),
            models.CheckConstraint(
                condition=Q(question_deadline__lte=models.F("bid_deadline")),
                name="tender_questions_before_deadline",
            ),
            models.UniqueConstraint(
                fields=["reference"], condition=~Q(reference=""), name="tender_reference_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("tenders:detail", args=[self.pk])

    def clean(self) -> None:
        # The check constraints enforce the same below the ORM; here each lands on its field.
        errors: dict[str, Any] = {}
        if isinstance(self.budget, Decimal) and self.budget <= 0:
            errors["budget"] = _("The budget ceiling must be more than 0.")
        qd, bd = self.question_deadline, self.bid_deadline
        if isinstance(qd, datetime) and isinstance(bd, datetime) and qd > bd:
            errors["question_deadline"] = _("Questions must close before the bid deadline.")
        if errors:
            raise ValidationError(errors)

    @property
    def minimum_bids(self) -> int:
        """Public tender: 3 (87号令); consultation on purchased services: 2 (财库〔2015〕124号)."""
        return 2 if self.method == ProcurementMethod.COMPETITIVE_CONSULTATION else 3

    @property
    def is_accepting_bids(self) -> bool:
        return self.status == TenderStatus.PUBLISHED and timezone.now() < self.bid_deadline

    @property
    def is_accepting_questions(self) -> bool:
        return self.status == TenderStatus.PUBLISHED and timezone.now() < self.question_deadline

    @property
    def deadline_passed(self) -> bool:
        return timezone.now() >= self.bid_deadline

    @property
    def display_status(self) -> str:
        """The status as the public should read it: past its deadline a tender is closed."""
        if self.status == TenderStatus.PUBLISHED and self.deadline_passed:
            return str(TenderStatus.CLOSED.label)
        return str(self.get_status_display())

    def time_left(self) -> timedelta:
        return max(self.bid_deadline - timezone.now(), timedelta(0))

    @transition(field=status, source=TenderStatus.DRAFT, target=TenderStatus.PENDING_APPROVAL)
    def submit(self) -> None:
        """The drafting official sends the tender for approval."""

    @transition(field=status, source=TenderStatus.PENDING_APPROVAL, target=TenderStatus.DRAFT)
    def return_to_draft(self) -> None:
        """The approver returns it with a note, or the drafter takes it back."""

    @transition(field=status, source=TenderStatus.PENDING_APPROVAL, target=TenderStatus.PUBLISHED)
    def publish(self) -> None:
        """A second person, an approver, publishes it."""

    @transition(field=status, source=TenderStatus.PUBLISHED, target=TenderStatus.CLOSED)
    def close(self) -> None:
        """The bid deadline passed."""

    @transition(field=status, source=TenderStatus.CLOSED, target=TenderStatus.OPENED)
    def open(self) -> None:
        """Two officials opened the bids."""

    @transition(
        field=status,
        source=[TenderStatus.CLOSED, TenderStatus.OPENED, TenderStatus.EVALUATING],
        target=TenderStatus.FAILED,
    )
    def fail(self) -> None:
        """流标: too few bids, or too few that pass review."""

    @transition(field=status, source=CANCELLABLE_STATES, target=TenderStatus.CANCELLED)
    def cancel(self) -> None:
        """Cancelled before the contract, with a public reason."""

    @transition(field=status, source=TenderStatus.OPENED, target=TenderStatus.EVALUATING)
    def start_evaluation(self) -> None:
        """Every bid reviewed and the panel formed."""

    @transition(field=status, source=TenderStatus.EVALUATING, target=TenderStatus.AWARDED)
    def award(self) -> None:
        """An approver confirmed the winner; the award notice is published."""

    @transition(field=status, source=TenderStatus.AWARDED, target=TenderStatus.EVALUATING)
    def reopen_evaluation(self) -> None:
        """An upheld challenge sends the tender back to the panel or to the award."""

    @transition(field=status, source=TenderStatus.AWARDED, target=TenderStatus.CONTRACTED)
    def contract_signed(self) -> None:
        """Both sides signed the contract."""

    @transition(field=status, source=TenderStatus.CONTRACTED, target=TenderStatus.IN_DELIVERY)
    def start_delivery(self) -> None:
        """The contract's service period began."""

    @transition(
        field=status,
        source=[TenderStatus.CONTRACTED, TenderStatus.IN_DELIVERY],
        target=TenderStatus.COMPLETED,
    )
    def complete(self) -> None:
        """The contract was completed or terminated: the project is over."""


class CriterionKind(models.TextChoices):
    PRICE = "price", pgettext_lazy("criterion kind", "Price")
    OBJECTIVE = "objective", _("Objective (from the registry)")
    SUBJECTIVE = "subjective", _("Subjective (scored by the panel)")


class TenderCriterion(models.Model):
    """One criterion of the tender's weighted scoring scheme (综合评分法, DESIGN 4.4)."""

    tender = models.ForeignKey(
        Tender, verbose_name=_("tender"), on_delete=models.CASCADE, related_name="criteria"
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=12, choices=CriterionKind.choices)
    points = models.DecimalField(_("points"), max_digits=5, decimal_places=2)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    # [{"low": "0", "high": "10", "text": "..."}]: what each score range means.
    bands = models.JSONField(_("score bands"), default=list, blank=True, encoder=DjangoJSONEncoder)
    # Objective criteria: {"type": "grade" | "social_workers" | "past_performance", ...}
    # (evaluation.objective reads it); empty for the others.
    rule = models.JSONField(
        _("objective rule"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("scoring criterion")
        verbose_name_plural = _("scoring criteria")
        ordering = ["tender", "sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["tender", "code"], name="criterion_code_unique"),
            models.CheckConstraint(condition=Q(points__gt=0), name="criterion_points_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.points})"


def _tender_document_path(instance: TenderDocument, filename: str) -> str:
    return f"tenders/{instance.tender_id}/{instance.sha256[:2]}/{instance.sha256}"


class TenderDocument(models.Model):
    """A public tender document (招标文件, annex): downloaded as an attachment, never inline."""

    tender = models.ForeignKey(
        Tender, verbose_name=_("tender"), on_delete=models.CASCADE, related_name="documents"
    )
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to=_tender_document_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    amendment = models.ForeignKey(
        "Amendment",
        verbose_name=_("added by amendment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("tender document")
        verbose_name_plural = _("tender documents")
        ordering = ["tender", "uploaded_at"]

    def __str__(self) -> str:
        return self.title


class OpeningConfirmation(models.Model):
    """One official's confirmation of the opening; the second distinct official's opens."""

    tender = models.ForeignKey(
        Tender,
        verbose_name=_("tender"),
        on_delete=models.CASCADE,
        related_name="opening_confirmations",
    )
    official = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("official"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed"))

    class Meta:
        verbose_name = _("opening confirmation")
        verbose_name_plural = _("opening confirmations")
        ordering = ["confirmed_at"]
        constraints = [
            models.UniqueConstraint(fields=["tender", "official"], name="one_confirmation_each")
        ]

    def __str__(self) -> str:
        return f"{self.tender} {self.official}"


class QuestionStatus(models.TextChoices):
    OPEN = "open", _("Waiting for an answer")
    ANSWERED = "answered", _("Answered")


class Question(ConcurrentTransitionMixin, models.Model):
    """A bidder's question (澄清); the answer is published to everyone, the asker is not."""

    tender = models.ForeignKey(
        Tender, verbose_name=_("tender"), on_delete=models.CASCADE, related_name="questions"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="+"
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    text = models.TextField(_("question"), max_length=4000)
    asked_at = models.DateTimeField(_("asked"), auto_now_add=True)
    status = FSMField(
        _("status"), default=QuestionStatus.OPEN, choices=QuestionStatus.choices, protected=True
    )
    answer = models.TextField(_("answer"), blank=True, max_length=8000)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["asked_at", "pk"]

    def __str__(self) -> str:
        return self.text[:60]

    @transition(field=status, source=QuestionStatus.OPEN, target=QuestionStatus.ANSWERED)
    def publish_answer(self) -> None:
        """An official answers; the answer is published to everyone."""


class Amendment(models.Model):
    """A published correction (更正公告) saying what changed."""

    tender = models.ForeignKey(
        Tender, verbose_name=_("tender"), on_delete=models.CASCADE, related_name="amendments"
    )
    number = models.PositiveSmallIntegerField(_("number"))
    summary = models.TextField(_("what changed and why"), max_length=4000)
    changes = models.JSONField(_("changed fields"), encoder=DjangoJSONEncoder, default=dict)
    affects_preparation = models.BooleanField(_("affects bid preparation"), default=False)
    bid_deadline_before = models.DateTimeField(_("deadline before"))
    bid_deadline_after = models.DateTimeField(_("deadline after"))
    published_at = models.DateTimeField(_("published"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        ordering = ["tender", "number"]
        constraints = [
            models.UniqueConstraint(fields=["tender", "number"], name="amendment_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.tender} #{self.number}"

    @property
    def deadline_moved(self) -> bool:
        return self.bid_deadline_after != self.bid_deadline_before


class TenderInterest(models.Model):
    """Someone who follows a tender and is told about answers, amendments and the outcome."""

    tender = models.ForeignKey(
        Tender, verbose_name=_("tender"), on_delete=models.CASCADE, related_name="interests"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="tender_interests",
    )
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("interest in a tender")
        verbose_name_plural = _("interests in tenders")
        constraints = [
            models.UniqueConstraint(fields=["tender", "user"], name="one_interest_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.tender}"


# --- Bids -------------------------------------------------------------------------------------


class BidStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted (sealed)")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    NEEDS_CONFIRMATION = "needs_confirmation", _("Needs confirmation after an amendment")
    OPENED = "opened", _("Opened")
    QUALIFIED = "qualified", _("Qualified")
    DISQUALIFIED = "disqualified", _("Disqualified")
    RANKED = "ranked", _("Ranked")
    WON = "won", _("Won")
    LOST = "lost", _("Not awarded")


# States of a bid that counts at the opening.
SEALED_BID_STATES = frozenset({BidStatus.SUBMITTED})


class Bid(ConcurrentTransitionMixin, models.Model):
    """One organization's bid for one tender; its content is sealed until the opening.

    Bids, their documents and receipts have random keys: a sequential number would tell a
    bidder how many bids were made since its own.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tender = models.ForeignKey(
        Tender, verbose_name=_("tender"), on_delete=models.PROTECT, related_name="bids"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        related_name="bids",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("prepared by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = FSMField(
        _("status"), default=BidStatus.DRAFT, choices=BidStatus.choices, protected=True
    )
    # Sealed: a Fernet token of {"price", "staff": [...], "proposal"} (tenders.sealing).
    sealed = models.TextField(_("sealed content"), blank=True, editable=False)
    content_sha256 = models.CharField(_("SHA-256 of the content"), max_length=64, blank=True)
    submitted_at = models.DateTimeField(_("last submitted"), null=True, blank=True)
    warnings = models.JSONField(_("warnings for the panel"), default=list, blank=True)
    # Plain after the opening (copied from the sealed content by the opening).
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=2, null=True, blank=True)
    proposal = models.TextField(_("technical proposal"), blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    review_reason = models.TextField(_("reason for disqualification"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("bid")
        verbose_name_plural = _("bids")
        ordering = ["tender", "pk"]
        constraints = [
            # One bid per organization and tender: a retry or a second click finds it.
            models.UniqueConstraint(fields=["tender", "organization"], name="one_bid_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} → {self.tender}"

    @property
    def is_open(self) -> bool:
        """Whether the content is plain (the tender was opened and this bid with it)."""
        return self.opened_at is not None

    @transition(field=status, source=BidStatus.DRAFT, target=BidStatus.SUBMITTED)
    def submit(self) -> None:
        """Sealed and received before the deadline; a receipt is issued."""

    @transition(field=status, source=BidStatus.SUBMITTED, target=BidStatus.WITHDRAWN)
    def withdraw(self) -> None:
        """Taken back before the deadline."""

    @transition(
        field=status,
        source=[BidStatus.WITHDRAWN, BidStatus.NEEDS_CONFIRMATION],
        target=BidStatus.DRAFT,
    )
    def reopen(self) -> None:
        """Back to a draft to change it before the deadline."""

    @transition(field=status, source=BidStatus.SUBMITTED, target=BidStatus.NEEDS_CONFIRMATION)
    def require_confirmation(self) -> None:
        """An amendment affecting preparation: the bidder must confirm the bid again."""

    @transition(field=status, source=BidStatus.NEEDS_CONFIRMATION, target=BidStatus.SUBMITTED)
    def confirm(self) -> None:
        """Confirmed as it is after the amendment; a new receipt is issued."""

    @transition(field=status, source=BidStatus.SUBMITTED, target=BidStatus.OPENED)
    def open(self) -> None:
        """Opened with the tender: the sealed content becomes readable to officials."""

    @transition(field=status, source=BidStatus.OPENED, target=BidStatus.QUALIFIED)
    def qualify(self) -> None:
        """Passed the qualification and conformity review."""

    @transition(field=status, source=BidStatus.OPENED, target=BidStatus.DISQUALIFIED)
    def disqualify(self) -> None:
        """Failed the review, with a reason."""

    @transition(
        field=status, source=[BidStatus.QUALIFIED, BidStatus.RANKED], target=BidStatus.DISQUALIFIED
    )
    def invalidate(self) -> None:
        """Found invalid during evaluation (an abnormally low price not justified, an upheld
        challenge), with a reason."""

    @transition(field=status, source=BidStatus.QUALIFIED, target=BidStatus.RANKED)
    def rank(self) -> None:
        """Placed in the frozen ranking."""

    @transition(field=status, source=BidStatus.RANKED, target=BidStatus.QUALIFIED)
    def unrank(self) -> None:
        """The ranking is being corrected or evaluated again."""

    @transition(field=status, source=BidStatus.RANKED, target=BidStatus.WON)
    def win(self) -> None:
        """Confirmed as the winner."""

    @transition(field=status, source=BidStatus.RANKED, target=BidStatus.LOST)
    def lose(self) -> None:
        """Another bid was awarded."""

    @transition(field=status, source=[BidStatus.WON, BidStatus.LOST], target=BidStatus.RANKED)
    def reset_award(self) -> None:
        """An upheld challenge withdrew the award."""


class BidStaff(models.Model):
    """A person of the staffing plan, plain after the opening (sealed before it)."""

    bid = models.ForeignKey(
        Bid, verbose_name=_("bid"), on_delete=models.CASCADE, related_name="staff"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="bid_plans"
    )
    role = models.CharField(pgettext_lazy("job", "role"), max_length=60)
    fte = models.DecimalField(_("full-time equivalent"), max_digits=3, decimal_places=2)

    class Meta:
        verbose_name = _("staffing plan entry")
        verbose_name_plural = _("staffing plan")
        ordering = ["bid", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["bid", "person"], name="one_plan_entry_per_person"),
            models.CheckConstraint(
                condition=Q(fte__gt=0) & Q(fte__lte=Decimal("1")), name="bid_staff_fte_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.role} {self.fte}"


class BidDocumentKind(models.TextChoices):
    TECHNICAL = "technical", _("Technical proposal")
    QUALIFICATION = "qualification", _("Qualification documents")
    PRICE = "price", _("Price breakdown")
    OTHER = "other", _("Other")


def _bid_document_path(instance: BidDocument, filename: str) -> str:
    # No file name, no extension: the stored object is ciphertext and says nothing.
    return f"bids/{instance.bid.tender_id}/{instance.bid_id}/{instance.storage_key}"


class BidDocument(models.Model):
    """A document of a bid, stored encrypted; its name is sealed too."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    bid = models.ForeignKey(
        Bid, verbose_name=_("bid"), on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=BidDocumentKind.choices, default=BidDocumentKind.OTHER
    )
    storage_key = models.CharField(max_length=64, unique=True, editable=False)
    file = models.FileField(_("file"), upload_to=_bid_document_path, max_length=200)
    sealed_name = models.TextField(_("sealed file name"), editable=False)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("bid document")
        verbose_name_plural = _("bid documents")
        ordering = ["bid", "uploaded_at", "pk"]

    def __str__(self) -> str:
        return f"{self.bid_id}:{self.sha256[:12]}"


class BidReceipt(models.Model):
    """What the bidder gets for each submission (DESIGN 6): server time, hashes, sequence."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    bid = models.ForeignKey(
        Bid, verbose_name=_("bid"), on_delete=models.CASCADE, related_name="receipts"
    )
    received_at = models.DateTimeField(_("received"))
    sha256 = models.CharField(_("SHA-256 of the bid"), max_length=64)
    documents = models.JSONField(_("document hashes"), default=list)
    sequence = models.PositiveBigIntegerField(_("audit sequence number"))
    kind = models.CharField(_("kind"), max_length=20, default="submitted")

    class Meta:
        verbose_name = _("bid receipt")
        verbose_name_plural = _("bid receipts")
        ordering = ["bid", "-received_at"]

    def __str__(self) -> str:
        return f"{self.bid_id} {self.received_at.isoformat()}"


# --- Award and challenges ---------------------------------------------------------------------


class AwardStatus(models.TextChoices):
    ACTIVE = "active", _("In force")
    WITHDRAWN = "withdrawn", _("Withdrawn after an upheld challenge")


class Award(models.Model):
    """The approver's confirmation of the winner and the award notice (中标公告)."""

    tender = models.ForeignKey(
        Tender, verbose_name=_("tender"), on_delete=models.PROTECT, related_name="awards"
    )
    bid = models.ForeignKey(
        Bid, verbose_name=_("winning bid"), on_delete=models.PROTECT, related_name="awards"
    )
    position = models.PositiveSmallIntegerField(_("position in the ranking"))
    reason = models.TextField(
        _("reason for not choosing the first-ranked bid"), blank=True, max_length=4000
    )
    status = models.CharField(
        _("status"), max_length=10, choices=AwardStatus.choices, default=AwardStatus.ACTIVE
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed"))
    notice_published_at = models.DateTimeField(_("award notice published"))
    notice_until = models.DateField(_("public notice until"))
    challenge_deadline = models.DateField(_("challenges until"))
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_reason = models.TextField(_("reason for withdrawal"), blank=True)

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        ordering = ["tender", "-confirmed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tender"],
                condition=Q(status="active"),
                name="one_active_award_per_tender",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tender} → {self.bid_id}"


class ChallengeStatus(models.TextChoices):
    FILED = "filed", _("Filed, waiting for the answer")
    ANSWERED = "answered", _("Answered, waiting for the decision")
    ACCEPTED = "accepted", _("Upheld")
    REJECTED = "rejected", _("Not upheld")
    CLOSED = "closed", _("Closed")


class ChallengeRemedy(models.TextChoices):
    NONE = "", _("None")
    REOPEN_EVALUATION = "reopen_evaluation", _("The panel evaluates again")
    REOPEN_AWARD = "reopen_award", _("The award is decided again")


class Challenge(ConcurrentTransitionMixin, models.Model):
    """A bidder's challenge (质疑) of the award, within 7 working days of the notice."""

    tender = models.ForeignKey(
        Tender, verbose_name=_("tender"), on_delete=models.PROTECT, related_name="challenges"
    )
    bid = models.ForeignKey(
        Bid, verbose_name=_("bid"), on_delete=models.PROTECT, related_name="challenges"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="+"
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    subject = models.CharField(_("subject"), max_length=200)
    text = models.TextField(_("grounds"), max_length=8000)
    filed_at = models.DateTimeField(_("filed"))
    answer_due = models.DateField(_("answer due"))
    status = FSMField(
        _("status"), default=ChallengeStatus.FILED, choices=ChallengeStatus.choices, protected=True
    )
    answer = models.TextField(_("answer"), blank=True, max_length=8000)
    upheld = models.BooleanField(_("upheld"), null=True, blank=True)
    remedy = models.CharField(
        _("remedy"), max_length=20, choices=ChallengeRemedy.choices, blank=True
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True, max_length=4000)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("challenge")
        verbose_name_plural = _("challenges")
        ordering = ["-filed_at", "pk"]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_pending(self) -> bool:
        return self.status in (ChallengeStatus.FILED, ChallengeStatus.ANSWERED)

    @transition(field=status, source=ChallengeStatus.FILED, target=ChallengeStatus.ANSWERED)
    def publish_answer(self) -> None:
        """An official answered in writing, proposing to uphold it or not."""

    @transition(field=status, source=ChallengeStatus.ANSWERED, target=ChallengeStatus.ACCEPTED)
    def accept(self) -> None:
        """An approver upheld it: the remedy is applied."""

    @transition(field=status, source=ChallengeStatus.ANSWERED, target=ChallengeStatus.REJECTED)
    def reject(self) -> None:
        """An approver confirmed it is not upheld."""

    @transition(
        field=status,
        source=[ChallengeStatus.ACCEPTED, ChallengeStatus.REJECTED],
        target=ChallengeStatus.CLOSED,
    )
    def close(self) -> None:
        """The remedy is done, or the tender moved on to the contract."""


def _challenge_document_path(instance: ChallengeDocument, filename: str) -> str:
    return f"challenges/{instance.challenge_id}/{instance.sha256[:2]}/{instance.sha256}"


class ChallengeDocument(models.Model):
    """Evidence attached to a challenge: served as an attachment, never inline."""

    challenge = models.ForeignKey(
        Challenge, verbose_name=_("challenge"), on_delete=models.CASCADE, related_name="documents"
    )
    file = models.FileField(_("file"), upload_to=_challenge_document_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("challenge document")
        verbose_name_plural = _("challenge documents")
        ordering = ["challenge", "uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


from tenders.models.contracts import (  # noqa: E402, F401 (re-exported; they need Tender first)
    PUBLIC_CONTRACT_STATES,
    SETTLED_MILESTONE_STATES,
    Contract,
    ContractStatus,
    ContractTeamMember,
    DeliveryDocument,
    DeliveryDocumentKind,
    DeliveryReport,
    DeliveryReportStatus,
    EvaluationKind,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
    PerformanceGrade,
    Programme,
    SurveyResponse,
    SurveySite,
    TeamChange,
    TeamChangeKind,
    TeamChangeStatus,
)
