"""Accounts, roles and the audit log."""

from django.contrib.auth.models import AbstractUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The seven roles of CONTRACTS.md section 1; a user holds exactly one."""

    ORG_ADMIN = "org_admin", _("Organization administrator")
    ORG_MEMBER = "org_member", _("Organization member")
    OFFICIAL = "official", _("Street office official")
    APPROVER = "approver", _("Approver")
    ASSESSOR = "assessor", _("Assessor")
    REGISTRY_ADMIN = "registry_admin", _("Registry administrator")
    AUDITOR = "auditor", _("Auditor")


ORG_ROLES = frozenset({Role.ORG_ADMIN, Role.ORG_MEMBER})
OFFICIAL_ROLES = frozenset({Role.OFFICIAL, Role.APPROVER})


class User(AbstractUser):
    """A person who signs in. Organization roles belong to exactly one organization."""

    # A Chinese name is one string; the Western first/last split does not fit it.
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, blank=True)
    organization = models.ForeignKey(
        "orgs_registry.Organization",
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    language = models.CharField(
        _("preferred language"), max_length=10, default="zh-hans", blank=True
    )

    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role__in=sorted(ORG_ROLES), organization__isnull=False)
                    | (~Q(role__in=sorted(ORG_ROLES)) & Q(organization__isnull=True))
                ),
                name="user_organization_matches_role",
                violation_error_message=_(
                    "Organization roles need an organization; other roles have none."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        return self.full_name or self.username

    def get_short_name(self) -> str:
        return self.full_name or self.username


class AuditAction(models.TextChoices):
    """Every kind of audit event, grouped by the app that writes it."""

    # marketplace: accounts and sessions
    USER_CREATED = "user.created", _("User created")
    USER_PASSWORD_CHANGED = "user.password_changed", _("Password changed")
    USER_PASSWORD_RESET = "user.password_reset", _("Password reset by e-mail")
    USER_PREFERENCES_CHANGED = "user.preferences_changed", _("Preferences changed")
    USER_DEACTIVATED = "user.deactivated", _("Account deactivated")
    USER_REACTIVATED = "user.reactivated", _("Account reactivated")
    AUTH_LOGIN = "auth.login", _("Signed in")
    AUTH_LOGOUT = "auth.logout", _("Signed out")
    AUTH_LOCKED_OUT = "auth.locked_out", _("Locked out after failed sign-ins")
    AUTH_TOKEN_ISSUED = "auth.token_issued", _("API token issued")
    TWO_FACTOR_ENROLLED = "auth.two_factor_enrolled", _("Two-factor sign-in enrolled")
    TWO_FACTOR_RESET = "auth.two_factor_reset", _("Two-factor devices reset")
    USER_ROLE_ASSIGNED = "user.role_assigned", _("Role assigned")
    # orgs_registry: organizations
    ORG_CREATED = "org.created", _("Organization created")
    ORG_REGISTERED = "org.registered", _("Organization registered (pending verification)")
    ORG_VERIFIED = "org.verified", _("Registration verified")
    ORG_REJECTED = "org.rejected", _("Registration rejected")
    ORG_RESUBMITTED = "org.resubmitted", _("Registration resubmitted")
    ORG_PROFILE_UPDATED = "org.profile_updated", _("Organization contact details updated")
    ORG_CHANGE_REQUESTED = "org.change_requested", _("Change of registered facts requested")
    ORG_CHANGE_APPROVED = "org.change_approved", _("Change of registered facts approved")
    ORG_CHANGE_REJECTED = "org.change_rejected", _("Change of registered facts rejected")
    ORG_STATUS_CHANGED = "org.status_changed", _("Organization status changed")
    ORG_DEREGISTRATION_STARTED = "org.deregistration_started", _("Deregistration started")
    ORG_DEREGISTRATION_WITHDRAWN = "org.deregistration_withdrawn", _("Deregistration withdrawn")
    ORG_DEREGISTERED = "org.deregistered", _("Organization deregistered")
    # orgs_registry: people and rosters
    STAFF_ADDED = "staff.added", _("Staff member added")
    STAFF_UPDATED = "staff.updated", _("Staff member updated")
    STAFF_QUALIFICATION_RECORDED = "staff.qualification_recorded", _("Qualification recorded")
    ROSTER_IMPORTED = "staff.roster_imported", _("Staff roster imported")
    # orgs_registry: grades
    GRADE_REQUESTED = "grade.requested", _("Grade assessment requested")
    GRADE_ASSIGNED = "grade.assigned", _("Grade assessor assigned")
    GRADE_SCORED = "grade.scored", _("Grade scores saved")
    GRADE_PROPOSED = "grade.proposed", _("Grade proposed")
    GRADE_PUBLICIZED = "grade.publicized", _("Grade put on public notice")
    GRADE_REVIEW_REQUESTED = "grade.review_requested", _("Grade review requested")
    GRADE_REVIEWED = "grade.reviewed", _("Grade review concluded")
    GRADE_CONFIRMED = "grade.confirmed", _("Grade confirmed")
    GRADE_EXPIRED = "grade.expired", _("Grade expired")
    GRADE_DOWNGRADED = "grade.downgraded", _("Grade downgraded")
    GRADE_CANCELLED = "grade.cancelled", _("Grade cancelled")
    GRADE_CUTOFFS_CHANGED = "grade.cutoffs_changed", _("Grade cut-offs changed")
    # orgs_registry: credit
    CREDIT_ENTRY_ADDED = "credit.entry_added", _("Put on a credit list")
    CREDIT_ENTRY_REMOVED = "credit.entry_removed", _("Removed from a credit list")
    CREDIT_MEASURE_ADDED = "credit.measure_added", _("Reward or penalty recorded")
    CREDIT_PROPOSED = "credit.proposed", _("Credit list entry proposed")
    CREDIT_PROPOSAL_CONFIRMED = "credit.proposal_confirmed", _("Credit list proposal confirmed")
    CREDIT_PROPOSAL_REJECTED = "credit.proposal_rejected", _("Credit list proposal rejected")
    FUNDING_IMPORT_STARTED = "funding.import_started", _("Funding registry import started")
    FUNDING_IMPORTED = "funding.imported", _("Funding registry imported")
    FUNDING_IMPORT_FAILED = "funding.import_failed", _("Funding registry import failed")
    # tenders
    TENDER_CREATED = "tender.created", _("Tender drafted")
    TENDER_UPDATED = "tender.updated", _("Tender draft changed")
    TENDER_DOCUMENT_ADDED = "tender.document_added", _("Tender document added")
    TENDER_DOCUMENT_REMOVED = "tender.document_removed", _("Tender document removed")
    TENDER_SUBMITTED = "tender.submitted", _("Tender sent for approval")
    TENDER_RETURNED = "tender.returned", _("Tender returned to draft")
    TENDER_PUBLISHED = "tender.published", _("Tender published")
    TENDER_AMENDED = "tender.amended", _("Amendment published")
    TENDER_CANCELLED = "tender.cancelled", _("Tender cancelled")
    TENDER_CLOSED = "tender.closed", _("Tender closed at the deadline")
    TENDER_OPENING_CONFIRMED = "tender.opening_confirmed", _("Opening confirmed by an official")
    TENDER_OPENED = "tender.opened", _("Bids opened")
    TENDER_FAILED = "tender.failed", _("Tender failed (not enough valid bids)")
    TENDER_FOLLOWED = "tender.followed", _("Following a tender")
    QUESTION_ASKED = "question.asked", _("Question asked")
    QUESTION_ANSWERED = "question.answered", _("Question answered")
    BID_PREPARED = "bid.prepared", _("Bid prepared")
    BID_DOCUMENT_ADDED = "bid.document_added", _("Bid document added")
    BID_DOCUMENT_REMOVED = "bid.document_removed", _("Bid document removed")
    BID_SUBMITTED = "bid.submitted", _("Bid submitted")
    BID_WITHDRAWN = "bid.withdrawn", _("Bid withdrawn")
    BID_REOPENED = "bid.reopened", _("Bid reopened for changes")
    BID_NEEDS_CONFIRMATION = "bid.needs_confirmation", _("Bid needs confirmation")
    BID_CONFIRMED = "bid.confirmed", _("Bid confirmed")
    BID_OPENED = "bid.opened", _("Bid opened")
    BID_QUALIFIED = "bid.qualified", _("Bid qualified")
    BID_DISQUALIFIED = "bid.disqualified", _("Bid disqualified")
    BID_KEYS_ROTATED = "bid.keys_rotated", _("Sealing keys rotated")
    # evaluation
    ASSESSOR_POOL_JOINED = "assessor.pool_joined", _("Joined the assessor pool")
    ASSESSOR_PROFILE_UPDATED = "assessor.profile_updated", _("Assessor profile updated")
    SCHEME_TEMPLATE_SAVED = "scheme.template_saved", _("Scoring scheme template saved")
    PANEL_FORMED = "panel.formed", _("Evaluation panel formed")
    PANEL_DRAWN = "panel.drawn", _("Panel members drawn at random")
    PANEL_MEMBER_EXCLUDED = "panel.member_excluded", _("Assessor excluded from the draw")
    PANEL_DECLARED = "panel.declared", _("Conflict-of-interest declaration signed")
    PANEL_CONFLICT_DECLARED = "panel.conflict_declared", _("Conflict declared; member replaced")
    PANEL_SCORING_STARTED = "panel.scoring_started", _("Scoring started")
    OBJECTIVE_SCORES_COMPUTED = "panel.objective_scores", _("Objective scores computed")
    LOW_PRICE_FLAGGED = "price.low_flagged", _("Abnormally low price flagged")
    LOW_PRICE_JUSTIFIED = "price.justified", _("Price justification submitted")
    LOW_PRICE_DECIDED = "price.decided", _("Panel decided on a price justification")
    SCORESHEET_SAVED = "scoresheet.saved", _("Score sheet saved")
    SCORESHEET_SUBMITTED = "scoresheet.submitted", _("Score sheet submitted")
    SCORESHEET_LOCKED = "scoresheet.locked", _("Score sheet locked")
    SCORESHEET_REOPENED = "scoresheet.reopened", _("Score sheet reopened for correction")
    DEVIATION_FLAGGED = "deviation.flagged", _("Abnormal deviation flagged")
    DEVIATION_CONFIRMED = "deviation.confirmed", _("Abnormal deviation confirmed with a reason")
    DEVIATION_REVISED = "deviation.revised", _("Abnormal deviation revised")
    RANKING_COMPUTED = "ranking.computed", _("Ranking computed and frozen")
    RANKING_TIE_DRAWN = "ranking.tie_drawn", _("Tie broken by a random draw")
    RANKING_CORRECTED = "ranking.corrected", _("Ranking corrected")
    PERFORMANCE_ASSIGNED = "performance.assigned", _("Performance evaluation assigned")
    PERFORMANCE_WITHDRAWN = "performance.withdrawn", _("Performance evaluation withdrawn")
    PERFORMANCE_DECLARED = "performance.declared", _("Performance assessor declared independence")
    PERFORMANCE_SCORES_SAVED = "performance.scores_saved", _("Performance scores saved")
    PERFORMANCE_SUBMITTED = "performance.submitted", _("Performance evaluation submitted")
    PERFORMANCE_REPLIED = "performance.replied", _("Organization answered its evaluation")
    TENDER_EVALUATION_STARTED = "tender.evaluation_started", _("Evaluation started")
    TENDER_AWARDED = "tender.awarded", _("Award confirmed and published")
    TENDER_AWARD_WITHDRAWN = "tender.award_withdrawn", _("Award withdrawn")
    TENDER_EVALUATION_REOPENED = "tender.evaluation_reopened", _("Evaluation reopened")
    BID_INVALIDATED = "bid.invalidated", _("Bid found invalid during evaluation")
    BID_RANKED = "bid.ranked", _("Bid ranked")
    CHALLENGE_FILED = "challenge.filed", _("Challenge filed")
    CHALLENGE_ANSWERED = "challenge.answered", _("Challenge answered")
    CHALLENGE_UPHELD = "challenge.upheld", _("Challenge upheld")
    CHALLENGE_REJECTED = "challenge.rejected", _("Challenge not upheld")
    CHALLENGE_CLOSED = "challenge.closed", _("Challenge closed")
    DELIVERY_REPORT_FILED = "delivery.report_filed", _("Delivery report filed")
    DELIVERY_REPORT_ACCEPTED = "delivery.report_accepted", _("Delivery report accepted")
    DELIVERY_REPORT_RETURNED = "delivery.report_returned", _("Delivery report returned")
    SURVEY_SITE_ADDED = "survey.site_added", _("Survey site added")
    SURVEY_SITE_CLOSED = "survey.site_closed", _("Survey site closed")
    SURVEY_SITE_OPENED = "survey.site_opened", _("Survey site reopened")
    CONTRACT_DRAFTED = "contract.drafted", _("Contract drawn up")
    CONTRACT_UPDATED = "contract.updated", _("Contract draft changed")
    CONTRACT_SIGNATURE = "contract.signature", _("Contract signed by one side")
    CONTRACT_SIGNED = "contract.signed", _("Contract signed by both sides and published")
    CONTRACT_SIGNATURE_REMINDED = "contract.signature_reminded", _("Reminded to sign a contract")
    CONTRACT_STARTED = "contract.started", _("Contract delivery started")
    CONTRACT_COMPLETED = "contract.completed", _("Contract completed")
    CONTRACT_TERMINATED = "contract.terminated", _("Contract terminated")
    TEAM_CHANGE_REQUESTED = "contract.team_change_requested", _("Team change requested")
    TEAM_CHANGE_APPROVED = "contract.team_change_approved", _("Team change approved")
    TEAM_CHANGE_REJECTED = "contract.team_change_rejected", _("Team change rejected")
    MILESTONE_RELEASED = "milestone.released", _("Milestone payment released")
    MILESTONE_WITHHELD = "milestone.withheld", _("Milestone payment withheld")
    MILESTONE_PAYMENT_RECORDED = "milestone.payment_recorded", _("Milestone payment recorded")
    INTEGRITY_SCREENS_RUN = "integrity.screens_run", _("Integrity screens run")
    INTEGRITY_FLAG_CONFIRMED = "integrity.flag_confirmed", _("Integrity flag confirmed")
    INTEGRITY_FLAG_DISMISSED = "integrity.flag_dismissed", _("Integrity flag dismissed")
    INTEGRITY_FLAG_RESOLVED = "integrity.flag_resolved", _("Integrity flag resolved")
    INTEGRITY_FLAG_REOPENED = "integrity.flag_reopened", _("Integrity flag reopened: new evidence")


GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained audit log (DESIGN.md section 6).

    ``sequence`` is gap-free; ``hash`` is the SHA-256 of every other field including
    ``prev_hash``, so changing or removing any event breaks the chain after it.
    Rows are written only by ``marketplace.audit.audit_record``.
    """

    sequence = models.PositiveBigIntegerField(_("sequence"), primary_key=True)
    created_at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        User,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=True,
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    actor_role = models.CharField(_("actor role"), max_length=32, choices=Role.choices, blank=True)
    # No database choices: the enum grows with every app, and a label is looked up instead.
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    state_before = models.CharField(_("state before"), max_length=40, blank=True)
    state_after = models.CharField(_("state after"), max_length=40, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-sequence"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["action", "sequence"], name="audit_action_idx"),
            models.Index(fields=["created_at"], name="audit_time_idx"),
            models.Index(fields=["actor", "sequence"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action}"

    def save(self, *args, **kwargs):
        # Appending is the only write; the PostgreSQL trigger enforces the same below the ORM.
        if not self._state.adding:
            raise PermissionError("Audit events are append-only and cannot be changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only and cannot be deleted.")

    @property
    def action_label(self) -> str:
        """The action's label in the active language (its code if no longer known)."""
        try:
            return str(AuditAction(self.action).label)
        except ValueError:
            return self.action


class AuditChainHead(models.Model):
    """The last sequence number and hash of the chain: one row, locked to append.

    Locking this row serializes appends, which is what makes the sequence gap-free
    and the chain linear. It also lets ``verify_audit`` notice events cut off the end.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain head")

    def __str__(self) -> str:
        return f"head #{self.sequence}"
