"""Scoring schemes, the assessor pool, panels, score sheets and the frozen ranking.

DESIGN.md 3 (score sheet lifecycle) and 4.4 (综合评分法, 财政部令第87号). The arithmetic lives
in the pure module ``evaluation.scoring``; these models keep what it is fed and what it
answered, so that every number in a ranking can be traced to the sheets behind it.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from tenders.models import EvaluationKind, PerformanceGrade

# --- Scheme templates ----------------------------------------------------------------------


class SchemeTemplate(models.Model):
    """A reusable weighted-scoring scheme for one service category (chosen, then adjusted,
    per tender before publication)."""

    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=160, blank=True)
    category = models.ForeignKey(
        "orgs_registry.ServiceCategory",
        verbose_name=_("service category"),
        on_delete=models.PROTECT,
        related_name="scheme_templates",
    )
    method = models.CharField(
        _("procurement method"),
        max_length=32,
        blank=True,
        help_text=_("Empty when the template suits both methods."),
    )
    description = models.TextField(_("description"), blank=True, max_length=4000)
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("scoring scheme template")
        verbose_name_plural = _("scoring scheme templates")
        ordering = ["category__sort_order", "name", "pk"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name


class SchemeTemplateCriterion(models.Model):
    """One criterion of a template: kind, points, bands and, for objective ones, the rule."""

    template = models.ForeignKey(
        SchemeTemplate,
        verbose_name=_("template"),
        on_delete=models.CASCADE,
        related_name="criteria",
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=160, blank=True)
    kind = models.CharField(_("kind"), max_length=12)
    points = models.DecimalField(_("points"), max_digits=5, decimal_places=2)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    # [{"low": "0", "high": "10", "text": "..."}]: what each score range means.
    bands = models.JSONField(_("score bands"), default=list, blank=True, encoder=DjangoJSONEncoder)
    # Objective criteria only: {"type": "grade" | "social_workers" | "past_performance", ...}.
    rule = models.JSONField(
        _("objective rule"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("template criterion")
        verbose_name_plural = _("template criteria")
        ordering = ["template", "sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "code"], name="template_criterion_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.points})"


# --- The assessor pool ----------------------------------------------------------------------


class AssessorProfile(models.Model):
    """A member of the third-party assessor pool and the categories they may assess."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="assessor_profile",
    )
    agency = models.CharField(_("assessment agency"), max_length=200, blank=True)
    categories = models.ManyToManyField(
        "orgs_registry.ServiceCategory",
        verbose_name=_("service categories"),
        related_name="assessors",
    )
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)

    class Meta:
        verbose_name = _("assessor profile")
        verbose_name_plural = _("assessor profiles")

    def __str__(self) -> str:
        return str(self.user)


class AssessorEmployment(models.Model):
    """A period of an assessor's employment: a bidder within 3 years, or the purchasing
    unit itself, is a conflict (DESIGN 4.4)."""

    profile = models.ForeignKey(
        AssessorProfile,
        verbose_name=_("assessor"),
        on_delete=models.CASCADE,
        related_name="employments",
    )
    employer_name = models.CharField(_("employer"), max_length=200)
    employer_uscc = models.CharField(_("employer's credit code"), max_length=18, blank=True)
    organization = models.ForeignKey(
        "orgs_registry.Organization",
        verbose_name=_("organization in the registry"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    is_purchasing_unit = models.BooleanField(_("staff of the purchasing unit"), default=False)
    position = models.CharField(_("position"), max_length=100, blank=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)

    class Meta:
        verbose_name = _("assessor employment")
        verbose_name_plural = _("assessor employments")
        ordering = ["profile", "-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="assessor_employment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile} @ {self.employer_name}"


class AssessorRelation(models.Model):
    """A relation the assessor declared with an organization (family, board seat, funding)."""

    profile = models.ForeignKey(
        AssessorProfile,
        verbose_name=_("assessor"),
        on_delete=models.CASCADE,
        related_name="relations",
    )
    organization_name = models.CharField(_("organization"), max_length=200)
    organization_uscc = models.CharField(_("credit code"), max_length=18, blank=True)
    organization = models.ForeignKey(
        "orgs_registry.Organization",
        verbose_name=_("organization in the registry"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    relation = models.CharField(_("relation"), max_length=200)
    declared_at = models.DateTimeField(_("declared"), auto_now_add=True)

    class Meta:
        verbose_name = _("declared relation")
        verbose_name_plural = _("declared relations")
        ordering = ["profile", "organization_name"]

    def __str__(self) -> str:
        return f"{self.profile} ~ {self.organization_name}"


# --- Panels --------------------------------------------------------------------------------


class PanelStatus(models.TextChoices):
    DECLARING = "declaring", _("Members are declaring conflicts")
    SCORING = "scoring", _("Scoring")
    RANKED = "ranked", _("Ranked")


class Panel(ConcurrentTransitionMixin, models.Model):
    """The evaluation panel (评标委员会 / 磋商小组) of one tender."""

    tender = models.OneToOneField(
        "tenders.Tender", verbose_name=_("tender"), on_delete=models.PROTECT, related_name="panel"
    )
    status = FSMField(
        _("status"), default=PanelStatus.DECLARING, choices=PanelStatus.choices, protected=True
    )
    size = models.PositiveSmallIntegerField(_("members"))
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("chair"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    formed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("formed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    formed_at = models.DateTimeField(_("formed"))
    scoring_started_at = models.DateTimeField(_("scoring started"), null=True, blank=True)
    ranked_at = models.DateTimeField(_("ranked"), null=True, blank=True)

    class Meta:
        verbose_name = _("evaluation panel")
        verbose_name_plural = _("evaluation panels")

    def __str__(self) -> str:
        return f"{self.tender}"

    @transition(field=status, source=PanelStatus.DECLARING, target=PanelStatus.SCORING)
    def start_scoring(self) -> None:
        """Every member has declared no conflict."""

    @transition(field=status, source=PanelStatus.SCORING, target=PanelStatus.RANKED)
    def rank(self) -> None:
        """Every sheet locked; the ranking is computed and frozen."""

    @transition(field=status, source=PanelStatus.RANKED, target=PanelStatus.SCORING)
    def reopen(self) -> None:
        """A sheet reopened for one of the four reasons, or a challenge upheld."""


class PanelDrawKind(models.TextChoices):
    INITIAL = "initial", _("Initial draw")
    REPLACEMENT = "replacement", _("Replacement for a conflict")


class PanelDraw(models.Model):
    """One random draw from the pool: its seed, who was drawn and who was excluded, why."""

    panel = models.ForeignKey(
        Panel, verbose_name=_("panel"), on_delete=models.CASCADE, related_name="draws"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=PanelDrawKind.choices)
    seed = models.CharField(_("seed"), max_length=64)
    requested = models.PositiveSmallIntegerField(_("members requested"))
    pool_size = models.PositiveIntegerField(_("assessors in the pool"))
    drawn = models.JSONField(_("drawn"), default=list)
    # [{"user": id, "name": ..., "reason": code, "detail": text}]
    excluded = models.JSONField(_("excluded"), default=list, encoder=DjangoJSONEncoder)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drawn by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    drawn_at = models.DateTimeField(_("drawn"))

    class Meta:
        verbose_name = _("panel draw")
        verbose_name_plural = _("panel draws")
        ordering = ["panel", "drawn_at", "pk"]

    def __str__(self) -> str:
        return f"{self.panel} {self.kind} {self.seed[:8]}"


class MemberKind(models.TextChoices):
    EXPERT = "expert", _("Expert from the pool")
    REPRESENTATIVE = "representative", _("Purchaser's representative")


class MemberStatus(models.TextChoices):
    ASSIGNED = "assigned", _("Waiting for the declaration")
    DECLARED = "declared", _("Declared no conflict")
    REPLACED = "replaced", _("Replaced (conflict declared)")


class PanelMember(ConcurrentTransitionMixin, models.Model):
    """A seat on the panel, with the member's conflict-of-interest declaration."""

    panel = models.ForeignKey(
        Panel, verbose_name=_("panel"), on_delete=models.CASCADE, related_name="members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="panel_seats",
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=MemberKind.choices, default=MemberKind.EXPERT
    )
    draw = models.ForeignKey(
        PanelDraw,
        verbose_name=_("draw"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    status = FSMField(
        _("status"), default=MemberStatus.ASSIGNED, choices=MemberStatus.choices, protected=True
    )
    statement = models.TextField(_("declaration"), blank=True, max_length=4000)
    conflict = models.BooleanField(_("conflict declared"), default=False)
    declared_at = models.DateTimeField(_("declared"), null=True, blank=True)
    replaced_by = models.OneToOneField(
        "self",
        verbose_name=_("replaced by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaces",
    )
    seat = models.PositiveSmallIntegerField(_("seat"))

    class Meta:
        verbose_name = _("panel member")
        verbose_name_plural = _("panel members")
        ordering = ["panel", "seat", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["panel", "user"], name="one_seat_per_member"),
        ]

    def __str__(self) -> str:
        return f"{self.panel} #{self.seat} {self.user}"

    @property
    def is_active(self) -> bool:
        return self.status != MemberStatus.REPLACED

    @transition(field=status, source=MemberStatus.ASSIGNED, target=MemberStatus.DECLARED)
    def declare(self) -> None:
        """Signed the declaration: no conflict with any bidder."""

    @transition(field=status, source=MemberStatus.ASSIGNED, target=MemberStatus.REPLACED)
    def replace(self) -> None:
        """Declared a conflict; a new draw fills the seat."""


# --- Objective scores and price flags --------------------------------------------------------


class ObjectiveScore(models.Model):
    """A system-computed score of one bid on one objective criterion, with its basis."""

    bid = models.ForeignKey(
        "tenders.Bid",
        verbose_name=_("bid"),
        on_delete=models.CASCADE,
        related_name="objective_scores",
    )
    criterion = models.ForeignKey(
        "tenders.TenderCriterion",
        verbose_name=_("criterion"),
        on_delete=models.CASCADE,
        related_name="objective_scores",
    )
    score = models.DecimalField(_("score"), max_digits=7, decimal_places=4)
    # What the score was computed from: {"grade": "4A"}, {"workers": 3, ...}, {"mean": "86.5"}.
    basis = models.JSONField(_("basis"), default=dict, encoder=DjangoJSONEncoder)
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("objective score")
        verbose_name_plural = _("objective scores")
        ordering = ["bid", "criterion__sort_order"]
        constraints = [
            models.UniqueConstraint(fields=["bid", "criterion"], name="one_objective_score"),
        ]

    def __str__(self) -> str:
        return f"{self.bid_id} {self.criterion_id} {self.score}"


class JustificationStatus(models.TextChoices):
    REQUESTED = "requested", _("Justification requested")
    SUBMITTED = "submitted", _("Justification submitted")
    ACCEPTED = "accepted", _("Accepted by the panel")
    REJECTED = "rejected", _("Rejected by the panel: the bid is invalid")


class PriceJustification(ConcurrentTransitionMixin, models.Model):
    """An abnormally low price (87号令 Art. 60): the bidder explains it, the panel decides."""

    bid = models.OneToOneField(
        "tenders.Bid",
        verbose_name=_("bid"),
        on_delete=models.CASCADE,
        related_name="price_justification",
    )
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=2)
    others_mean = models.DecimalField(
        _("mean of the other valid prices"), max_digits=16, decimal_places=4
    )
    ratio = models.DecimalField(_("threshold ratio"), max_digits=4, decimal_places=2)
    status = FSMField(
        _("status"),
        default=JustificationStatus.REQUESTED,
        choices=JustificationStatus.choices,
        protected=True,
    )
    requested_at = models.DateTimeField(_("requested"))
    due_at = models.DateTimeField(_("due"))
    text = models.TextField(_("written justification"), blank=True, max_length=8000)
    document = models.FileField(_("document"), upload_to="justifications/%Y/", blank=True)
    document_name = models.CharField(_("file name"), max_length=200, blank=True)
    document_sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decision_note = models.TextField(_("panel's reasons"), blank=True, max_length=4000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("price justification")
        verbose_name_plural = _("price justifications")
        ordering = ["requested_at"]

    def __str__(self) -> str:
        return f"{self.bid_id} {self.price}"

    @transition(
        field=status, source=JustificationStatus.REQUESTED, target=JustificationStatus.SUBMITTED
    )
    def submit(self) -> None:
        """The bidder uploaded its written justification."""

    @transition(
        field=status,
        source=[JustificationStatus.SUBMITTED],
        target=JustificationStatus.ACCEPTED,
    )
    def accept(self) -> None:
        """The panel accepts the explanation; the bid stays valid."""

    @transition(
        field=status,
        source=[JustificationStatus.REQUESTED, JustificationStatus.SUBMITTED],
        target=JustificationStatus.REJECTED,
    )
    def reject(self) -> None:
        """The panel rejects it (or none came by the due time): the bid is invalid."""


# --- Score sheets ----------------------------------------------------------------------------


class SheetStatus(models.TextChoices):
    ASSIGNED = "assigned", _("Waiting for the declaration")
    DECLARED = "declared", _("Ready to score")
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    LOCKED = "locked", _("Locked")
    REOPENED = "reopened", _("Reopened for correction")


class ScoreSheet(ConcurrentTransitionMixin, models.Model):
    """One member's scores of one bid on the subjective criteria."""

    member = models.ForeignKey(
        PanelMember, verbose_name=_("member"), on_delete=models.CASCADE, related_name="sheets"
    )
    bid = models.ForeignKey(
        "tenders.Bid", verbose_name=_("bid"), on_delete=models.PROTECT, related_name="sheets"
    )
    status = FSMField(
        _("status"), default=SheetStatus.ASSIGNED, choices=SheetStatus.choices, protected=True
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    locked_at = models.DateTimeField(_("locked"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("score sheet")
        verbose_name_plural = _("score sheets")
        ordering = ["member__seat", "bid__pk"]
        constraints = [
            models.UniqueConstraint(fields=["member", "bid"], name="one_sheet_per_member_bid"),
        ]

    def __str__(self) -> str:
        return f"{self.member} / {self.bid_id}"

    @transition(field=status, source=SheetStatus.ASSIGNED, target=SheetStatus.DECLARED)
    def declare(self) -> None:
        """The member signed the declaration: the bid may be read and scored."""

    @transition(
        field=status,
        source=[SheetStatus.DECLARED, SheetStatus.DRAFT, SheetStatus.REOPENED],
        target=SheetStatus.DRAFT,
    )
    def edit(self) -> None:
        """Scores saved, not yet submitted."""

    @transition(
        field=status,
        source=[SheetStatus.DRAFT, SheetStatus.SUBMITTED],
        target=SheetStatus.SUBMITTED,
    )
    def submit(self) -> None:
        """Submitted (and, for a flagged deviation, revised or confirmed)."""

    @transition(field=status, source=SheetStatus.SUBMITTED, target=SheetStatus.LOCKED)
    def lock(self) -> None:
        """Every sheet is in and no deviation waits for its member."""

    @transition(field=status, source=SheetStatus.LOCKED, target=SheetStatus.REOPENED)
    def reopen(self) -> None:
        """Reopened by the chair for one of the four reasons of DESIGN 4.4."""


class Score(models.Model):
    """A member's score on one subjective criterion, with a short reason."""

    sheet = models.ForeignKey(
        ScoreSheet, verbose_name=_("score sheet"), on_delete=models.CASCADE, related_name="scores"
    )
    criterion = models.ForeignKey(
        "tenders.TenderCriterion",
        verbose_name=_("criterion"),
        on_delete=models.PROTECT,
        related_name="scores",
    )
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        ordering = ["sheet", "criterion__sort_order"]
        constraints = [
            models.UniqueConstraint(fields=["sheet", "criterion"], name="one_score_per_criterion"),
            models.CheckConstraint(condition=Q(score__gte=0), name="score_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sheet_id} {self.criterion_id} {self.score}"


class DeviationStatus(models.TextChoices):
    OPEN = "open", _("Waiting for the member")
    CONFIRMED = "confirmed", _("Confirmed with a reason")
    REVISED = "revised", _("Revised")


class DeviationFlag(models.Model):
    """A score far from the panel mean (畸高畸低, DESIGN 4.4): confirm it in writing or revise."""

    sheet = models.ForeignKey(
        ScoreSheet, verbose_name=_("score sheet"), on_delete=models.CASCADE, related_name="flags"
    )
    criterion = models.ForeignKey(
        "tenders.TenderCriterion",
        verbose_name=_("criterion"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2)
    panel_mean = models.DecimalField(_("panel mean"), max_digits=9, decimal_places=4)
    deviation = models.DecimalField(_("deviation"), max_digits=9, decimal_places=4)
    threshold = models.DecimalField(_("threshold"), max_digits=9, decimal_places=4)
    status = models.CharField(
        _("status"), max_length=10, choices=DeviationStatus.choices, default=DeviationStatus.OPEN
    )
    note = models.TextField(_("member's written reason"), blank=True, max_length=2000)
    revised_score = models.DecimalField(
        _("revised score"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(_("flagged"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("abnormal deviation")
        verbose_name_plural = _("abnormal deviations")
        ordering = ["sheet", "criterion__sort_order", "pk"]

    def __str__(self) -> str:
        return f"{self.sheet_id} {self.criterion_id} {self.deviation}"


# --- The ranking -----------------------------------------------------------------------------


class TieBreak(models.TextChoices):
    NONE = "", _("No tie")
    RULE = "rule", _("The tender's tie rule")
    DRAW = "draw", _("A recorded random draw")


class Ranking(models.Model):
    """The frozen result of ``scoring.rank`` over the locked sheets of a tender."""

    tender = models.OneToOneField(
        "tenders.Tender",
        verbose_name=_("tender"),
        on_delete=models.PROTECT,
        related_name="ranking",
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    base_price = models.DecimalField(_("base price"), max_digits=14, decimal_places=2)
    trim_extremes = models.BooleanField(_("highest and lowest scores dropped"), default=False)
    places = models.PositiveSmallIntegerField(_("decimal places"), default=2)
    tie_break = models.CharField(
        _("tie broken by"), max_length=8, choices=TieBreak.choices, blank=True
    )
    tie_seed = models.CharField(_("seed of the tie draw"), max_length=64, blank=True)
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("ranking")
        verbose_name_plural = _("rankings")

    def __str__(self) -> str:
        return f"{self.tender} v{self.version}"


class RankingRow(models.Model):
    """One ranked bid: exactly what ``scoring.rank`` answered, plus the final position."""

    ranking = models.ForeignKey(
        Ranking, verbose_name=_("ranking"), on_delete=models.CASCADE, related_name="rows"
    )
    bid = models.OneToOneField(
        "tenders.Bid", verbose_name=_("bid"), on_delete=models.PROTECT, related_name="ranking_row"
    )
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=2)
    price_score = models.DecimalField(_("price score"), max_digits=7, decimal_places=2)
    criterion_scores = models.JSONField(
        _("criterion scores"), default=dict, encoder=DjangoJSONEncoder
    )
    total = models.DecimalField(_("total"), max_digits=7, decimal_places=2)
    rank = models.PositiveSmallIntegerField(pgettext_lazy("ranking", "rank"))
    tied = models.BooleanField(_("tied"), default=False)
    position = models.PositiveSmallIntegerField(
        _("position"), help_text=_("The order after ties are broken; 1 is recommended.")
    )

    class Meta:
        verbose_name = _("ranking row")
        verbose_name_plural = _("ranking rows")
        ordering = ["ranking", "position"]
        constraints = [
            models.UniqueConstraint(fields=["ranking", "position"], name="one_bid_per_position"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.bid_id} {self.total}"

    @property
    def total_decimal(self) -> Decimal:
        return Decimal(self.total)


class CorrectionReason(models.TextChoices):
    """The only four reasons a score may change after aggregation (DESIGN 4.4)."""

    ARITHMETIC_ERROR = "arithmetic_error", _("Arithmetic error")
    OUT_OF_RANGE = "out_of_range", _("Score outside the criterion's range")
    INCONSISTENT_OBJECTIVE = "inconsistent_objective", _("Inconsistent objective scores")
    ABNORMAL_SCORE = "abnormal_score", _("Abnormally high or low score")


class RankingCorrection(models.Model):
    """A recorded correction of a frozen ranking: why, whose sheet, and the totals before
    and after."""

    ranking = models.ForeignKey(
        Ranking, verbose_name=_("ranking"), on_delete=models.CASCADE, related_name="corrections"
    )
    reason = models.CharField(_("reason"), max_length=24, choices=CorrectionReason.choices)
    explanation = models.TextField(_("explanation"), max_length=4000)
    sheet = models.ForeignKey(
        ScoreSheet,
        verbose_name=_("score sheet"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested"))
    before = models.JSONField(_("totals before"), default=dict, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("totals after"), default=dict, encoder=DjangoJSONEncoder)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)

    class Meta:
        verbose_name = _("ranking correction")
        verbose_name_plural = _("ranking corrections")
        ordering = ["ranking", "requested_at"]

    def __str__(self) -> str:
        return f"{self.ranking} {self.reason}"


# --- Third-party performance evaluation (DESIGN 4.5) -------------------------------------------


class PerformanceGroup(models.TextChoices):
    DECISION = "decision", pgettext_lazy("performance group", "Decision")
    PROCESS = "process", pgettext_lazy("performance group", "Process")
    OUTPUT = "output", pgettext_lazy("performance group", "Output")
    BENEFIT = "benefit", pgettext_lazy("performance group", "Benefit")


class PerformanceIndicatorSet(models.Model):
    """The indicators a delivered project is evaluated against, stored as data: four groups
    worth 100 points, output and benefit at least 60, one satisfaction indicator
    (``evaluation.performance.set_problems``)."""

    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=160, blank=True)
    version = models.CharField(_("version"), max_length=20, default="1")
    is_current = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("performance indicator set")
        verbose_name_plural = _("performance indicator sets")
        ordering = ["-is_current", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=Q(is_current=True),
                name="one_current_performance_set",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.version})"

    @property
    def label(self) -> str:
        english = (get_language() or "").startswith("en")
        return (self.name_en or self.name) if english else self.name


class PerformanceIndicator(models.Model):
    set = models.ForeignKey(
        PerformanceIndicatorSet,
        verbose_name=_("indicator set"),
        on_delete=models.CASCADE,
        related_name="indicators",
    )
    group = models.CharField(_("group"), max_length=10, choices=PerformanceGroup.choices)
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    guidance = models.TextField(_("how to score"), blank=True, max_length=2000)
    max_points = models.DecimalField(_("maximum points"), max_digits=5, decimal_places=1)
    is_satisfaction = models.BooleanField(_("scored from the satisfaction survey"), default=False)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("performance indicator")
        verbose_name_plural = _("performance indicators")
        ordering = ["set", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["set", "code"], name="performance_indicator_code_unique"
            ),
            models.CheckConstraint(
                condition=Q(max_points__gt=0), name="performance_indicator_points_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    @property
    def label(self) -> str:
        english = (get_language() or "").startswith("en")
        return (self.name_en or self.name) if english else self.name


class PerformanceEvaluationStatus(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned to the assessor")
    SUBMITTED = "submitted", _("Submitted")
    REPLIED = "replied", _("Answered by the organization")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# States in which an evaluation's result stands (and counts for payment and past performance).
PERFORMANCE_RESULT_STATES = frozenset(
    {PerformanceEvaluationStatus.SUBMITTED, PerformanceEvaluationStatus.REPLIED}
)


class PerformanceEvaluation(ConcurrentTransitionMixin, models.Model):
    """A third-party performance evaluation (第三方绩效评价) of a contract, mid-term or final,
    by an assessor independent of the supplier. Its grade settles the milestone it is tied to."""

    contract = models.ForeignKey(
        "tenders.Contract",
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="performance_evaluations",
    )
    milestone = models.ForeignKey(
        "tenders.Milestone",
        verbose_name=_("milestone"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="performance_evaluations",
    )
    kind = models.CharField(
        pgettext_lazy("evaluation", "kind"),
        max_length=10,
        choices=EvaluationKind.choices,
    )
    indicator_set = models.ForeignKey(
        PerformanceIndicatorSet, verbose_name=_("indicator set"), on_delete=models.PROTECT
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assessor"),
        on_delete=models.PROTECT,
        related_name="performance_evaluations",
    )
    status = FSMField(
        _("status"),
        default=PerformanceEvaluationStatus.ASSIGNED,
        choices=PerformanceEvaluationStatus.choices,
        protected=True,
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    assigned_at = models.DateTimeField(_("assigned"))
    due_date = models.DateField(_("due"))
    # The assessor's declaration of independence from the supplier (same rules as panels).
    declared_at = models.DateTimeField(_("independence declared"), null=True, blank=True)
    satisfaction_answers = models.PositiveIntegerField(_("survey answers"), default=0)
    satisfaction_rate = models.DecimalField(
        _("satisfied (%)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    total_score = models.DecimalField(
        _("total score"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    grade = models.CharField(
        pgettext_lazy("performance", "grade"),
        max_length=10,
        choices=PerformanceGrade.choices,
        blank=True,
    )
    conclusion = models.TextField(_("conclusion"), blank=True, max_length=8000)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    reply = models.TextField(_("organization's reply"), blank=True, max_length=8000)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("replied by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    withdrawn_reason = models.TextField(_("reason for withdrawal"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("performance evaluation")
        verbose_name_plural = _("performance evaluations")
        ordering = ["-assigned_at", "-pk"]
        indexes = [
            models.Index(fields=["assessor", "status"], name="perf_eval_assessor_idx"),
            models.Index(fields=["kind", "status", "submitted_at"], name="perf_eval_kind_idx"),
        ]
        constraints = [
            # One standing evaluation of each kind per contract (a withdrawn one may be redone).
            models.UniqueConstraint(
                fields=["contract", "kind"],
                condition=~Q(status="withdrawn"),
                name="one_evaluation_per_kind_and_contract",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.get_kind_display()}"

    @property
    def has_result(self) -> bool:
        return self.status in PERFORMANCE_RESULT_STATES

    @transition(
        field=status,
        source=PerformanceEvaluationStatus.ASSIGNED,
        target=PerformanceEvaluationStatus.SUBMITTED,
    )
    def submit(self) -> None:
        """The assessor submitted scores, grade and conclusion; the milestone is settled."""

    @transition(
        field=status,
        source=PerformanceEvaluationStatus.SUBMITTED,
        target=PerformanceEvaluationStatus.REPLIED,
    )
    def record_reply(self) -> None:
        """The organization answered the conclusion (once; the reply is public with it)."""

    @transition(
        field=status,
        source=PerformanceEvaluationStatus.ASSIGNED,
        target=PerformanceEvaluationStatus.WITHDRAWN,
    )
    def withdraw(self) -> None:
        """Taken from the assessor before submission (a conflict found, or replaced)."""


class PerformanceScore(models.Model):
    """The assessor's score for one indicator, with the evidence it rests on."""

    evaluation = models.ForeignKey(
        PerformanceEvaluation,
        verbose_name=_("performance evaluation"),
        on_delete=models.CASCADE,
        related_name="scores",
    )
    indicator = models.ForeignKey(
        PerformanceIndicator, verbose_name=_("indicator"), on_delete=models.PROTECT
    )
    score = models.DecimalField(_("score"), max_digits=4, decimal_places=1)
    evidence = models.TextField(_("evidence"), blank=True, max_length=4000)

    class Meta:
        verbose_name = _("performance score")
        verbose_name_plural = _("performance scores")
        ordering = ["indicator__sort_order", "indicator__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "indicator"], name="one_performance_score_per_indicator"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0), name="performance_score_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code}: {self.score}"


# --- Integrity screens (DESIGN 5) ------------------------------------------------------------


class FlagKind(models.TextChoices):
    """What a screen found: six kinds of double funding (既养人又买服务), then the collusion
    and bias screens, named after the OCDS red flags where the catalogue has one."""

    STAFF_ON_PUBLIC_PAYROLL = "staff_on_public_payroll", _("Staff on the public payroll")
    UNIT_KEEPS_STAFF_FOR_FUNCTION = (
        "unit_keeps_staff_for_function",
        _("Purchasing unit keeps staff for the function"),
    )
    SUBSIDY_OVERLAP = "subsidy_overlap", _("Subsidy for the same service and period")
    STAFF_OVERCOMMITTED = "staff_overcommitted", _("Person committed above full time")
    DUPLICATE_PROJECT = "duplicate_project", _("Near-identical funded project")
    EXCLUDED_PROVIDER = "excluded_provider", _("Provider funded like a class-1 public institution")
    R018_SINGLE_BID = "R018_single_bid", _("Single valid bid (R018)")
    R028_IDENTICAL_PRICES = "R028_identical_prices", _("Identical bid prices (R028)")
    R024_CLOSE_SECOND = "R024_close_second", _("Second price very close to the winner (R024)")
    R058_WINNER_FAR_BELOW = "R058_winner_far_below", _("Winner far below the other bids (R058)")
    R025_FREQUENT_LOSER = "R025_frequent_loser", _("Frequent losing bidder (R025)")
    R003_SHORT_PERIOD = "R003_short_period", _("Short submission period (R003)")
    SHARED_BIDDER_LINK = "shared_bidder_link", _("Competing bidders share a link")
    PRICE_SCREEN = "price_screen", _("Price pattern suggests collusion")
    ASSESSOR_DEVIATION = "assessor_deviation", _("Assessor deviates systematically")
    ASSESSOR_AFFINITY = "assessor_affinity", _("Assessor favours an organization")


DOUBLE_FUNDING_KINDS = frozenset(
    {
        FlagKind.STAFF_ON_PUBLIC_PAYROLL,
        FlagKind.UNIT_KEEPS_STAFF_FOR_FUNCTION,
        FlagKind.SUBSIDY_OVERLAP,
        FlagKind.STAFF_OVERCOMMITTED,
        FlagKind.DUPLICATE_PROJECT,
        FlagKind.EXCLUDED_PROVIDER,
    }
)


class FlagSeverity(models.TextChoices):
    LOW = "low", pgettext_lazy("severity", "Low")
    MEDIUM = "medium", pgettext_lazy("severity", "Medium")
    HIGH = "high", pgettext_lazy("severity", "High")


class FlagStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("flag", "Open")
    CONFIRMED = "confirmed", pgettext_lazy("flag", "Confirmed")
    DISMISSED = "dismissed", pgettext_lazy("flag", "Dismissed")
    RESOLVED = "resolved", pgettext_lazy("flag", "Resolved")


class IntegrityFlag(ConcurrentTransitionMixin, models.Model):
    """Something an integrity screen found, for an official or auditor to review; nothing is
    rejected by a screen itself (DESIGN 5). Lifecycle: open → confirmed | dismissed (reason
    required) → resolved (DESIGN 3).

    ``fingerprint`` names the finding (its kind, subject and the records that matched), so
    running the screens again refreshes the flag instead of adding a second one, whichever
    way they run.
    """

    kind = models.CharField(pgettext_lazy("flag", "kind"), max_length=40, choices=FlagKind.choices)
    severity = models.CharField(
        _("severity"), max_length=10, choices=FlagSeverity.choices, default=FlagSeverity.MEDIUM
    )
    fingerprint = models.CharField(_("fingerprint"), max_length=64, unique=True, editable=False)
    status = FSMField(
        _("status"), default=FlagStatus.OPEN, choices=FlagStatus.choices, protected=True
    )
    # The subject: whichever of these the finding is about, and a label for lists.
    tender = models.ForeignKey(
        "tenders.Tender",
        verbose_name=_("tender"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="integrity_flags",
    )
    bid = models.ForeignKey(
        "tenders.Bid",
        verbose_name=_("bid"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="integrity_flags",
    )
    contract = models.ForeignKey(
        "tenders.Contract",
        verbose_name=_("contract"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="integrity_flags",
    )
    organization = models.ForeignKey(
        "orgs_registry.Organization",
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="integrity_flags",
    )
    person = models.ForeignKey(
        "orgs_registry.Person",
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="integrity_flags",
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assessor"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="integrity_flags",
    )
    subject_label = models.CharField(_("subject"), max_length=300)
    # Structured: which fields matched, the probability, the overlapping period, the posts or
    # subsidies involved (see evaluation.integrity for each kind's keys).
    evidence = models.JSONField(_("evidence"), default=dict, encoder=DjangoJSONEncoder)
    evidence_digest = models.CharField(max_length=64, editable=False)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=4, default=0)
    first_seen_at = models.DateTimeField(_("first found"))
    last_seen_at = models.DateTimeField(_("last found"))
    # Set when a later run over the same scope no longer finds it (cleared when found again).
    gone_at = models.DateTimeField(_("no longer found"), null=True, blank=True)
    last_run = models.ForeignKey(
        "evaluation.IntegrityRun",
        verbose_name=_("last run"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True, max_length=4000)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True, max_length=4000)

    class Meta:
        verbose_name = _("integrity flag")
        verbose_name_plural = _("integrity flags")
        ordering = ["-last_seen_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "kind"], name="flag_status_kind_idx"),
            models.Index(fields=["tender", "status"], name="flag_tender_idx"),
            models.Index(fields=["organization", "status"], name="flag_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject_label}"

    def get_absolute_url(self) -> str:
        return reverse("evaluation:integrity_flag", args=[self.pk])

    @property
    def is_double_funding(self) -> bool:
        return self.kind in DOUBLE_FUNDING_KINDS

    @property
    def blocks(self) -> bool:
        """Confirmed double funding blocks the award or payment it concerns until resolved."""
        return self.is_double_funding and self.status == FlagStatus.CONFIRMED

    @transition(field=status, source=FlagStatus.OPEN, target=FlagStatus.CONFIRMED)
    def confirm(self) -> None:
        """A reviewer found the finding real."""

    @transition(field=status, source=FlagStatus.OPEN, target=FlagStatus.DISMISSED)
    def dismiss(self) -> None:
        """A reviewer found it a false alarm, with the reason."""

    @transition(field=status, source=FlagStatus.CONFIRMED, target=FlagStatus.RESOLVED)
    def resolve(self) -> None:
        """The confirmed problem was put right (the resolution says how)."""

    @transition(
        field=status, source=[FlagStatus.DISMISSED, FlagStatus.RESOLVED], target=FlagStatus.OPEN
    )
    def reopen(self) -> None:
        """A screen found the same finding with different evidence: it is reviewed again."""


class RunTrigger(models.TextChoices):
    COMMAND = "command", _("Command")
    REQUEST = "request", _("On demand")
    BID_OPENING = "bid_opening", _("Bid opening")
    CONTRACT_CHANGE = "contract_change", _("Contract change")
    SCHEDULE = "schedule", _("Schedule")


class RunStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("run", "Queued")
    RUNNING = "running", pgettext_lazy("run", "Running")
    FINISHED = "finished", pgettext_lazy("run", "Finished")
    FAILED = "failed", pgettext_lazy("run", "Failed")


class IntegrityRun(ConcurrentTransitionMixin, models.Model):
    """One run of the integrity screens: what started it, over what, how far it got and what
    it found (counts per flag kind)."""

    trigger = models.CharField(_("trigger"), max_length=20, choices=RunTrigger.choices)
    tender = models.ForeignKey(
        "tenders.Tender",
        verbose_name=_("tender"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the run covers everything."),
    )
    status = FSMField(
        _("status"), default=RunStatus.QUEUED, choices=RunStatus.choices, protected=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    step = models.CharField(_("current step"), max_length=60, blank=True)
    counts = models.JSONField(_("flags per kind"), default=dict, blank=True)
    new_flags = models.PositiveIntegerField(_("new flags"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("integrity screen run")
        verbose_name_plural = _("integrity screen runs")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_trigger_display()} {self.get_status_display()}"

    @property
    def is_done(self) -> bool:
        return self.status in (RunStatus.FINISHED, RunStatus.FAILED)

    @transition(field=status, source=RunStatus.QUEUED, target=RunStatus.RUNNING)
    def start(self) -> None:
        """A worker (or the command) took it up."""

    @transition(field=status, source=RunStatus.RUNNING, target=RunStatus.FINISHED)
    def finish(self) -> None:
        """Every screen ran; the counts are final."""

    @transition(field=status, source=[RunStatus.QUEUED, RunStatus.RUNNING], target=RunStatus.FAILED)
    def fail(self) -> None:
        """A screen raised; the error is kept and the flags written so far stay."""
