"""Evaluation pages: scoring scheme templates; an assessor's seats, declarations, score
sheets and deviation flags, and profile; the street office's panel, progress and ranking
pages; price justifications.

Views parse input, call one service or selector and render (DESIGN 2). Panels, seats,
sheets and justifications are reached only through ``evaluation.selectors``, which give 404
for "not yours" as for "missing"; writes go through ``evaluation.services``, which check the
permission again and raise ``PermissionDenied`` (403) or ``ValidationError`` (shown on the
form, nothing saved). Independence (DESIGN 4.4) holds on every page: a member reads only
their own sheets until every sheet is submitted, and no bid content before the declaration.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_fsm import can_proceed

from evaluation import forms, permissions, rules, selectors
from evaluation.models import (
    DeviationFlag,
    DeviationStatus,
    MemberStatus,
    Panel,
    PanelMember,
    PanelStatus,
    ScoreSheet,
    SheetStatus,
)
from evaluation.services import (
    assessor_employment_add,
    assessor_employment_end,
    assessor_profile_update,
    assessor_relation_add,
    assessor_relation_end,
)
from evaluation.services import panels as panel_services
from evaluation.services import sheets as sheet_services
from marketplace.api_base import attachment
from marketplace.models import Role, User
from marketplace.permissions import has_role, is_official
from marketplace.uploads import DOCUMENT_CONTENT_TYPES, DOCUMENT_EXTENSIONS
from tenders import selectors as tender_selectors
from tenders.models import CriterionKind, Tender, TenderCriterion

# The sheet statuses in the order a sheet goes through them (the progress table's columns).
SHEET_STATUS_ORDER = [
    SheetStatus.ASSIGNED,
    SheetStatus.DECLARED,
    SheetStatus.DRAFT,
    SheetStatus.SUBMITTED,
    SheetStatus.LOCKED,
    SheetStatus.REOPENED,
]


class AuthenticatedRequest(HttpRequest):
    """A request behind ``login_required``: its user is a signed-in account."""

    user: User


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _panel_or_none(user: Any, tender: Tender) -> Panel | None:
    """The tender's panel when the user may see it; None when there is none or they may not."""
    try:
        return selectors.panel_get_for_user(user, tender)
    except Http404:
        return None


def _own_seat(request: AuthenticatedRequest, pk: int) -> PanelMember:
    """The user's own seat: 404 for a seat that is not theirs (403 for the street office and
    auditors, who may read seats but not sign or score for their members)."""
    member = selectors.member_get_for_user(request.user, pk)
    _require(member.user_id == request.user.pk)
    return member


def _award_url(tender: Tender) -> str:
    """The award page of the tender, once the award pages exist."""
    try:
        return reverse("tenders:award", args=[tender.pk])
    except NoReverseMatch:
        return ""


# --- Scoring scheme templates ------------------------------------------------------------------


@require_GET
def scheme_list(request: HttpRequest) -> HttpResponse:
    """The weighted-scoring templates per service category (public: schemes are published
    with every tender anyway)."""
    templates = tender_selectors.scheme_template_list()
    return render(request, "evaluation/scheme_list.html", {"templates": templates})


@require_GET
def scheme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One template: its criteria, bands and objective rules."""
    template = next((t for t in tender_selectors.scheme_template_list() if t.pk == pk), None)
    if template is None:
        raise Http404
    return render(request, "evaluation/scheme_detail.html", {"template": template})


# --- My assessments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    text: str
    url: str = ""
    link_text: str = ""
    urgent: bool = False


def next_step(assignment: selectors.Assignment, open_flags: int) -> NextStep:
    """What the member does next on this seat (a reading of its state, nothing decided)."""
    member = assignment.member
    sheets = assignment.sheets
    if member.status == MemberStatus.REPLACED:
        return NextStep(_("You declared a conflict; another assessor took your seat."))
    if assignment.must_declare:
        return NextStep(
            _("Sign the conflict-of-interest declaration before you can read the bids."),
            reverse("evaluation:declaration", args=[member.pk]),
            _("Declare"),
            urgent=True,
        )
    if member.status != MemberStatus.DECLARED:
        return NextStep(_("Waiting for the panel."))
    to_score = sum(
        sheets.get(status, 0)
        for status in (SheetStatus.DECLARED, SheetStatus.DRAFT, SheetStatus.REOPENED)
    )
    sheets_url = reverse("evaluation:sheets", args=[member.pk])
    if open_flags:
        return NextStep(
            _("Confirm with a written reason, or revise, your flagged scores."),
            sheets_url,
            _("Answer the flags"),
            urgent=True,
        )
    if to_score and assignment.panel_status == PanelStatus.SCORING:
        return NextStep(
            _("Score the bids and submit each sheet."),
            sheets_url,
            pgettext("action", "Score"),
            urgent=True,
        )
    if to_score:
        return NextStep(_("Waiting for every member's declaration."), sheets_url, _("Your sheets"))
    if assignment.panel_status == PanelStatus.RANKED:
        return NextStep(
            _("The ranking is ready."),
            reverse("evaluation:ranking", args=[assignment.tender.pk]),
            _("Read the ranking"),
        )
    return NextStep(
        _("Your sheets are in; waiting for the other members."), sheets_url, _("Your sheets")
    )


@login_required
@require_GET
def assignments(request: AuthenticatedRequest) -> HttpResponse:
    """The user's panel seats: tender, status, sheets by status, open flags, next step.

    For assessors, and officials (who sit as the purchaser's representatives)."""
    _require(has_role(request.user, Role.ASSESSOR) or is_official(request.user))
    seats = selectors.my_assignments(request.user)
    flags: Counter[int] = Counter()
    for sheet in selectors.scoresheet_list_for_user(request.user):
        flags[sheet.member_id] += sum(
            1 for flag in sheet.flags.all() if flag.status == DeviationStatus.OPEN
        )
    rows = [
        {
            "assignment": seat,
            "counts": [
                (label, seat.sheets.get(status, 0))
                for status, label in SheetStatus.choices
                if seat.sheets.get(status)
            ],
            "open_flags": flags[seat.member.pk],
            "next": next_step(seat, flags[seat.member.pk]),
        }
        for seat in seats
    ]
    context = {"rows": rows, "show_profile": has_role(request.user, Role.ASSESSOR)}
    return render(request, "evaluation/assignments.html", context)


# --- The declaration ---------------------------------------------------------------------------


def _declaration_page(
    request: AuthenticatedRequest, member: PanelMember, *, form: Any = None
) -> HttpResponse:
    tender = member.panel.tender
    can_declare = permissions.can_declare(request.user, member)
    # The bidders' names are public once the bids are opened (开标记录); nothing else of the
    # bids is shown before the declaration.
    bidders = [
        {"name": row.organization_name, "uscc": row.uscc}
        for row in tender_selectors.opening_record(tender).rows
    ]
    context = {
        "member": member,
        "tender": tender,
        "bidders": bidders,
        "can_declare": can_declare,
        "form": (form or forms.DeclarationForm()) if can_declare else form,
        "is_chair": member.panel.chair_id == member.user_id and member.is_active,
    }
    return render(request, "evaluation/declaration.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def declaration(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The member's conflict-of-interest declaration, signed before any bid is shown."""
    member = _own_seat(request, pk)
    if request.method != "POST":
        return _declaration_page(request, member)
    form = forms.DeclarationForm(request.POST)
    if form.is_valid():
        try:
            panel_services.panel_declare(
                member=member,
                actor=request.user,
                conflict=form.conflict,
                statement=form.cleaned_data["statement"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            if form.conflict:
                messages.success(
                    request,
                    _(
                        "Your conflict is recorded and another assessor was drawn to take "
                        "your seat. Thank you for declaring it."
                    ),
                )
                return redirect("evaluation:assignments")
            messages.success(
                request, _("Your declaration is signed; the bids are open to you now.")
            )
            return redirect("evaluation:sheets", pk=member.pk)
    return _declaration_page(request, member, form=form)


# --- Score sheets --------------------------------------------------------------------------------


@login_required
@require_GET
def sheet_list(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The bids of one seat, each with its sheet's status (after the declaration only)."""
    member = _own_seat(request, pk)
    if member.status != MemberStatus.DECLARED:
        # No bid is shown before the declaration (DESIGN 4.4).
        return redirect("evaluation:declaration", pk=member.pk)
    tender = member.panel.tender
    sheets = [
        sheet
        for sheet in selectors.scoresheet_list_for_user(request.user, tender)
        if sheet.member_id == member.pk
    ]
    rows = [
        {
            "sheet": sheet,
            "open_flags": sum(1 for f in sheet.flags.all() if f.status == DeviationStatus.OPEN),
        }
        for sheet in sheets
    ]
    context = {
        "member": member,
        "tender": tender,
        "panel": member.panel,
        "rows": rows,
        "counts": Counter(sheet.status for sheet in sheets),
    }
    return render(request, "evaluation/sheet_list.html", context)


def _criteria(tender: Tender) -> list[TenderCriterion]:
    return list(tender.criteria.all().order_by("sort_order", "pk"))


def _all_errors(form: Any) -> list[str]:
    return [str(error) for errors in form.errors.values() for error in errors]


def _sheet_page(
    request: AuthenticatedRequest,
    sheet: ScoreSheet,
    *,
    form: forms.ScoreSheetForm | None = None,
    confirm_forms: dict[int, Any] | None = None,
    revise_forms: dict[int, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    member = sheet.member
    panel = member.panel
    tender = panel.tender
    criteria = _criteria(tender)
    subjective = [c for c in criteria if c.kind == CriterionKind.SUBJECTIVE]
    own = permissions.can_score_sheet(user, sheet)
    editable = own and panel.status == PanelStatus.SCORING and can_proceed(sheet.edit)
    scores = list(sheet.scores.all())
    if editable and form is None:
        form = forms.ScoreSheetForm(criteria=subjective, scores=scores)
    by_criterion = {score.criterion_id: score for score in scores}
    flags = sorted(sheet.flags.all(), key=lambda f: (f.criterion.sort_order, f.pk))
    answerable = own and sheet.status == SheetStatus.SUBMITTED
    confirm_forms = confirm_forms or {}
    revise_forms = revise_forms or {}
    open_to_answer = {f.pk for f in flags if answerable and f.status == DeviationStatus.OPEN}
    flag_rows = [
        {
            "flag": flag,
            "answerable": flag.pk in open_to_answer,
            "confirm": confirm_forms.get(flag.pk)
            or forms.DeviationConfirmForm(prefix=f"confirm-{flag.pk}"),
            "revise": revise_forms.get(flag.pk)
            or forms.DeviationReviseForm(prefix=f"revise-{flag.pk}", points=flag.criterion.points),
        }
        for flag in flags
    ]
    objective = [
        score
        for score in selectors.objective_scores_for_user(user, tender)
        if score.bid_id == sheet.bid_id
    ]
    # A refusal whose form is no longer shown (the sheet or flag moved on meanwhile) still
    # says why.
    hidden = [form] if form is not None and not editable else []
    hidden += [
        bound
        for pk, bound in [*confirm_forms.items(), *revise_forms.items()]
        if pk not in open_to_answer
    ]
    context = {
        "action_errors": [str(e) for bound in hidden for e in _all_errors(bound)],
        "sheet": sheet,
        "member": member,
        "panel": panel,
        "tender": tender,
        "own": own,
        "editable": editable,
        "form": form,
        "subjective": [(c, by_criterion.get(c.pk)) for c in subjective],
        "price_criterion": next((c for c in criteria if c.kind == CriterionKind.PRICE), None),
        "objective": objective,
        "content": selectors.panel_bid_content_for_user(user, sheet.bid),
        "flag_rows": flag_rows,
        "open_flags": sum(1 for flag in flags if flag.status == DeviationStatus.OPEN),
    }
    return render(request, "evaluation/sheet.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def sheet_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One sheet: the bid, the criteria with their bands, the member's scores and reasons.

    "Save the draft" saves what is filled in; "Submit" saves it and submits the sheet in
    one transaction (both or neither: the service refuses an incomplete sheet).
    """
    sheet = selectors.scoresheet_get_for_user(request.user, pk)
    if request.method != "POST":
        return _sheet_page(request, sheet)
    _require(permissions.can_score_sheet(request.user, sheet))
    subjective = [c for c in _criteria(sheet.bid.tender) if c.kind == CriterionKind.SUBJECTIVE]
    form = forms.ScoreSheetForm(request.POST, criteria=subjective, scores=sheet.scores.all())
    submit = request.POST.get("action") == "submit"
    if form.is_valid():
        try:
            if submit:
                sheet_services.scoresheet_save_and_submit(
                    sheet=sheet, actor=request.user, scores=form.items()
                )
            else:
                sheet_services.scoresheet_save(sheet=sheet, actor=request.user, scores=form.items())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            if submit:
                messages.success(
                    request,
                    _("The sheet for %(name)s is submitted.")
                    % {"name": sheet.bid.organization.name},
                )
                return redirect("evaluation:sheets", pk=sheet.member_id)
            messages.success(request, _("The draft is saved; only you can read it."))
            return redirect("evaluation:sheet", pk=sheet.pk)
    return _sheet_page(request, sheet, form=form)


def _flag_of(sheet: ScoreSheet, flag_pk: int) -> DeviationFlag:
    flag = next((f for f in sheet.flags.all() if f.pk == flag_pk), None)
    if flag is None:
        raise Http404
    return flag


@login_required
@require_POST
def flag_confirm(request: AuthenticatedRequest, pk: int, flag_pk: int) -> HttpResponse:
    """The member keeps a flagged score (畸高畸低) and says why in writing."""
    sheet = selectors.scoresheet_get_for_user(request.user, pk)
    flag = _flag_of(sheet, flag_pk)
    form = forms.DeviationConfirmForm(request.POST, prefix=f"confirm-{flag.pk}")
    if form.is_valid():
        try:
            sheet_services.deviation_confirm(
                flag=flag, actor=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The score stands, with your written reason."))
            return redirect("evaluation:sheet", pk=sheet.pk)
    return _sheet_page(request, sheet, confirm_forms={flag.pk: form})


@login_required
@require_POST
def flag_revise(request: AuthenticatedRequest, pk: int, flag_pk: int) -> HttpResponse:
    """The member revises a flagged score; a score still far from the mean is flagged again."""
    sheet = selectors.scoresheet_get_for_user(request.user, pk)
    flag = _flag_of(sheet, flag_pk)
    form = forms.DeviationReviseForm(
        request.POST, prefix=f"revise-{flag.pk}", points=flag.criterion.points
    )
    if form.is_valid():
        score = form.cleaned_data["score"]
        try:
            result = sheet_services.deviation_revise(
                flag=flag,
                actor=request.user,
                score=None if score is None else str(score),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            if result.pk != flag.pk:
                messages.warning(
                    request,
                    _(
                        "The score is revised, and it is still far from the panel's mean: "
                        "confirm it with a reason or revise it again."
                    ),
                )
            else:
                messages.success(request, _("The score is revised."))
            return redirect("evaluation:sheet", pk=sheet.pk)
    return _sheet_page(request, sheet, revise_forms={flag.pk: form})


# --- The assessor's profile ----------------------------------------------------------------------


def _profile_page(
    request: AuthenticatedRequest,
    *,
    profile_form: Any = None,
    employment_form: Any = None,
    relation_form: Any = None,
    end_forms: dict[int, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    profile = selectors.assessor_profile_for_user(request.user)
    end_forms = end_forms or {}
    context = {
        "profile": profile,
        "profile_form": profile_form
        or forms.ProfileForm(
            prefix="profile",
            initial={"agency": profile.agency, "categories": list(profile.categories.all())},
        ),
        "employment_form": employment_form or forms.EmploymentForm(prefix="employment"),
        "relation_form": relation_form or forms.RelationForm(prefix="relation"),
        "employments": [
            (
                employment,
                end_forms.get(employment.pk)
                or forms.EmploymentEndForm(
                    prefix=f"end-{employment.pk}", initial={"end_date": timezone.localdate()}
                ),
            )
            for employment in profile.employments.all()
        ],
        "relations": list(profile.relations.all()),
    }
    return render(request, "evaluation/profile.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: AuthenticatedRequest) -> HttpResponse:
    """The assessor's own profile: the facts the panel draw checks for conflicts."""
    assessor = selectors.assessor_profile_for_user(request.user)
    if request.method != "POST":
        return _profile_page(request)
    form = forms.ProfileForm(request.POST, prefix="profile")
    if form.is_valid():
        try:
            assessor_profile_update(
                profile=assessor,
                actor=request.user,
                agency=form.cleaned_data["agency"],
                categories=form.cleaned_data["categories"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("evaluation:profile")
    return _profile_page(request, profile_form=form)


@login_required
@require_POST
def employment_add(request: AuthenticatedRequest) -> HttpResponse:
    assessor = selectors.assessor_profile_for_user(request.user)
    form = forms.EmploymentForm(request.POST, prefix="employment")
    if form.is_valid():
        try:
            assessor_employment_add(profile=assessor, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The employment is recorded."))
            return redirect(reverse("evaluation:profile") + "#employments")
    return _profile_page(request, employment_form=form)


@login_required
@require_POST
def employment_end(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    assessor = selectors.assessor_profile_for_user(request.user)
    employment = next((e for e in assessor.employments.all() if e.pk == pk), None)
    if employment is None:
        raise Http404
    form = forms.EmploymentEndForm(request.POST, prefix=f"end-{pk}")
    if form.is_valid():
        try:
            assessor_employment_end(
                employment=employment, actor=request.user, end_date=form.cleaned_data["end_date"]
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The employment is ended."))
            return redirect(reverse("evaluation:profile") + "#employments")
    return _profile_page(request, end_forms={pk: form})


@login_required
@require_POST
def relation_add(request: AuthenticatedRequest) -> HttpResponse:
    assessor = selectors.assessor_profile_for_user(request.user)
    form = forms.RelationForm(request.POST, prefix="relation")
    if form.is_valid():
        try:
            assessor_relation_add(profile=assessor, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The relation is declared."))
            return redirect(reverse("evaluation:profile") + "#relations")
    return _profile_page(request, relation_form=form)


@login_required
@require_POST
def relation_end(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    assessor = selectors.assessor_profile_for_user(request.user)
    relation = next((r for r in assessor.relations.all() if r.pk == pk), None)
    if relation is None:
        raise Http404
    assessor_relation_end(relation=relation, actor=request.user)
    messages.success(request, _("The relation is withdrawn; the audit log keeps it."))
    return redirect(reverse("evaluation:profile") + "#relations")


# --- The panel (the street office) ---------------------------------------------------------------


@dataclass(frozen=True)
class OpenFlag:
    """An open deviation flag as the panel page lists it: who, which bid and criterion."""

    seat: int
    member: str
    organization: str
    criterion: str


def open_flags(scores: selectors.PanelScores | None) -> list[OpenFlag]:
    """The scores still waiting for their member's answer, without the scores themselves."""
    if scores is None:
        return []
    names = {c.code: c.name for c in scores.criteria}
    found: list[OpenFlag] = []
    for bid in scores.bids:
        for code, entries in bid.scores.items():
            found.extend(
                OpenFlag(
                    seat=entry.seat,
                    member=entry.member,
                    organization=bid.organization,
                    criterion=names.get(code, code),
                )
                for entry in entries
                if entry.flag == DeviationStatus.OPEN
            )
    return sorted(found, key=lambda f: (f.seat, f.organization, f.criterion))


def _panel_page(
    request: AuthenticatedRequest,
    tender: Tender,
    panel: Panel | None,
    *,
    form: Any = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    context: dict[str, Any] = {
        "tender": tender,
        "panel": panel,
        "section": "panel",
        "tabs": {"panel": True, "ranking": panel is not None and panel.ranked_at is not None},
        "low_price_percent": f"{rules.LOW_PRICE_RATIO * 100:.0f}",
    }
    if panel is None:
        minimum = rules.minimum_panel_size(tender.method, tender.budget)
        can_form = permissions.can_form_panel(user, tender)
        context.update(
            minimum=minimum,
            consultation=tender.method == rules.COMPETITIVE_CONSULTATION,
            large_budget=rules.LARGE_BUDGET,
            form=form or (forms.PanelForm(tender=tender, minimum=minimum) if can_form else None),
        )
        return render(request, "evaluation/panel.html", context, status=status)
    detail = selectors.panel_detail(panel, user=user)
    progress = (
        selectors.panel_progress(panel)
        if permissions.can_view_panel_progress(user, panel)
        else None
    )
    try:
        scores = selectors.panel_scores(user, panel)
    except Http404:
        scores = None
    names = {member.user_id: member.name for member in detail.members}
    context.update(
        detail=detail,
        draws=[
            {"draw": draw, "drawn": [names.get(user_id, str(user_id)) for user_id in draw.drawn]}
            for draw in detail.draws
        ],
        progress=[
            {"line": line, "counts": [line.counts.get(status, 0) for status in SHEET_STATUS_ORDER]}
            for line in progress
        ]
        if progress is not None
        else None,
        status_labels=[SheetStatus(status).label for status in SHEET_STATUS_ORDER],
        open_flags=open_flags(scores),
        revealed=scores is not None,
        justifications=list(selectors.justification_list_for_user(user, tender)),
        # Undeclared members read nothing of the bids, abnormally low prices included.
        show_justifications=permissions.is_office_or_auditor(user)
        or permissions.is_declared_member(user, panel),
        seat=permissions.panel_seat(user, panel),
    )
    return render(request, "evaluation/panel.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def panel_page(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The tender's panel: the form to form it, then its members, draws and progress."""
    tender = tender_selectors.tender_get_for_user(request.user, pk)
    panel = _panel_or_none(request.user, tender)
    if panel is None and not permissions.is_office_or_auditor(request.user):
        raise Http404
    if request.method != "POST":
        return _panel_page(request, tender, panel)
    _require(panel is None and permissions.can_form_panel(request.user, tender))
    minimum = rules.minimum_panel_size(tender.method, tender.budget)
    form = forms.PanelForm(request.POST, tender=tender, minimum=minimum)
    if form.is_valid():
        try:
            panel_services.panel_form(
                tender=tender,
                actor=request.user,
                size=form.cleaned_data["size"],
                representatives=form.users("representatives"),
                members=form.users("members"),
                chair=form.cleaned_data.get("chair"),
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "The panel is formed and its members were e-mailed. Each signs the "
                    "conflict-of-interest declaration before reading any bid."
                ),
            )
            return redirect("evaluation:panel", pk=tender.pk)
    return _panel_page(request, tender, None, form=form)


# --- The ranking ---------------------------------------------------------------------------------

# The bar chart's geometry, in SVG user units (the SVG scales to its container): bars start
# after a small margin (the "0" tick stays inside) and 100 points span CHART_WIDTH units.
CHART_LEFT = 12
CHART_LABEL_HEIGHT = 18
CHART_BAR_HEIGHT = 22
CHART_GAP = 14
CHART_WIDTH = 640
CHART_RIGHT = 60  # room for the total after the longest bar
CHART_AXIS_HEIGHT = 16
CHART_SCALE_POINTS = Decimal(100)


@dataclass(frozen=True)
class Segment:
    kind: str  # price | objective | subjective
    value: Decimal
    x: str
    width: str


@dataclass(frozen=True)
class Bar:
    label: str
    total: Decimal
    x_label: int
    y_label: int
    y_bar: int
    bar_height: int
    segments: list[Segment]
    end_x: str
    y_total: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    axis_bottom: int
    bars: list[Bar]
    ticks: list[tuple[str, int]]


def _x(points: Decimal) -> Decimal:
    return CHART_LEFT + points * CHART_WIDTH / CHART_SCALE_POINTS


def _fmt(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


def ranking_chart(rows: Sequence[selectors.RankingLine], kinds: dict[str, str]) -> Chart:
    """A horizontal bar per ranked bid: its total stacked by price, objective and subjective
    scores, on a 0-100 point scale (pure arithmetic; the template only draws it)."""
    bars = []
    step = CHART_LABEL_HEIGHT + CHART_BAR_HEIGHT + CHART_GAP
    for index, row in enumerate(rows):
        parts = {
            "price": row.price_score or Decimal(0),
            "objective": Decimal(0),
            "subjective": Decimal(0),
        }
        for code, value in (row.criterion_scores or {}).items():
            kind = kinds.get(code)
            if kind in ("objective", "subjective"):
                parts[kind] += Decimal(value)
        done = Decimal(0)
        segments = []
        for kind in ("price", "objective", "subjective"):
            start, done = _x(done), done + parts[kind]
            segments.append(
                Segment(kind=kind, value=parts[kind], x=_fmt(start), width=_fmt(_x(done) - start))
            )
        top = index * step
        bars.append(
            Bar(
                label=row.organization,
                total=row.total,
                x_label=CHART_LEFT,
                y_label=top + CHART_LABEL_HEIGHT - 4,
                y_bar=top + CHART_LABEL_HEIGHT,
                bar_height=CHART_BAR_HEIGHT,
                segments=segments,
                end_x=_fmt(_x(done) + 6),
                y_total=top + CHART_LABEL_HEIGHT + CHART_BAR_HEIGHT - 6,
            )
        )
    bottom = max(len(rows), 1) * step
    ticks = [(_fmt(_x(Decimal(p))), p) for p in range(0, 101, 20)]
    return Chart(
        width=CHART_LEFT + CHART_WIDTH + CHART_RIGHT,
        height=bottom + CHART_AXIS_HEIGHT,
        axis_bottom=bottom,
        bars=bars,
        ticks=ticks,
    )


def _matrix(
    rows: Iterable[selectors.RankingLine], subjective: list[TenderCriterion]
) -> dict[str, Any]:
    """Each member's scores per bid and subjective criterion, in seat order."""
    seats: dict[int, str] = {}
    for row in rows:
        for entries in (row.member_scores or {}).values():
            for entry in entries:
                seats.setdefault(entry.seat, entry.member)
    order = sorted(seats)
    bids = []
    for row in rows:
        lines = []
        for criterion in subjective:
            by_seat = {e.seat: e for e in (row.member_scores or {}).get(criterion.code, [])}
            lines.append({"criterion": criterion, "cells": [by_seat.get(s) for s in order]})
        bids.append({"row": row, "lines": lines})
    return {"members": [(seat, seats[seat]) for seat in order], "bids": bids}


def _ranking_page(
    request: AuthenticatedRequest,
    tender: Tender,
    *,
    reopen_form: Any = None,
    objective_form: Any = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    view = selectors.ranking_for_user(user, tender)
    criteria = _criteria(tender)
    kinds = {c.code: c.kind for c in criteria}
    non_price = [c for c in criteria if c.kind != CriterionKind.PRICE]
    subjective = [c for c in criteria if c.kind == CriterionKind.SUBJECTIVE]
    names = {str(row.bid_id): row.organization for row in view.rows}
    context: dict[str, Any] = {
        "tender": tender,
        "view": view,
        "ranking": view.ranking,
        "section": "ranking",
        "non_price": non_price,
        "rows": [
            {"line": row, "scores": [(row.criterion_scores or {}).get(c.code) for c in non_price]}
            for row in view.rows
        ],
        "award_url": _award_url(tender),
        "tabs": {"panel": False, "ranking": True},
    }
    if view.full:
        context.update(
            chart=ranking_chart(view.rows, kinds),
            matrix=_matrix(view.rows, subjective),
            corrections=[
                {
                    "correction": correction,
                    "totals": [
                        (
                            names.get(bid, bid),
                            correction.before.get(bid),
                            (correction.after or {}).get(bid),
                        )
                        for bid in sorted(
                            set(correction.before) | set(correction.after or {}),
                            key=lambda b: names.get(b, b),
                        )
                    ],
                }
                for correction in view.corrections
            ],
        )
        panel = _panel_or_none(user, tender)
        context["tabs"] = {"panel": panel is not None, "ranking": True}
        chair = panel is not None and permissions.can_correct_objective_score(user, panel)
        if panel is not None and chair:
            context.update(_correction_forms(user, panel, tender, reopen_form, objective_form))
    return render(request, "evaluation/ranking.html", context, status=status)


def _sheet_choices(user: Any, panel: Panel) -> list[tuple[int, str]]:
    """The locked sheets the chair may reopen: seat, member and bid."""
    return [
        (
            sheet.pk,
            _("Seat %(seat)s, %(member)s: %(organization)s")
            % {
                "seat": sheet.member.seat,
                "member": sheet.member.user.get_full_name(),
                "organization": sheet.bid.organization.name,
            },
        )
        for sheet in selectors.reopenable_sheets(user, panel)
    ]


def _objective_choices(user: Any, tender: Tender) -> list[tuple[int, str]]:
    """The objective scores the chair may correct: bidder, criterion, score / points."""
    choices = []
    for score in selectors.objective_scores_for_user(user, tender):
        value = f"{Decimal(score.score).normalize():f}"
        points = f"{Decimal(score.criterion.points).normalize():f}"
        label = f"{score.bid.organization.name}: {score.criterion.name} ({value} / {points})"
        choices.append((score.pk, label))
    return choices


def _correction_forms(
    user: Any, panel: Panel, tender: Tender, reopen_form: Any, objective_form: Any
) -> dict[str, Any]:
    return {
        "reopen_form": reopen_form
        or forms.ReopenForm(prefix="reopen", sheets=_sheet_choices(user, panel)),
        "objective_form": objective_form
        or forms.ObjectiveCorrectionForm(
            prefix="objective", scores=_objective_choices(user, tender)
        ),
    }


@login_required
@require_GET
def ranking(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The frozen ranking, the members' scores, the corrections log and the chart."""
    return _ranking_page(request, tender_selectors.tender_get_for_user(request.user, pk))


@login_required
@require_POST
def ranking_reopen(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The chair reopens one locked sheet for one of the four reasons."""
    tender = tender_selectors.tender_get_for_user(request.user, pk)
    panel = selectors.panel_get_for_user(request.user, tender)
    _require(permissions.can_correct_objective_score(request.user, panel))
    form = forms.ReopenForm(
        request.POST, prefix="reopen", sheets=_sheet_choices(request.user, panel)
    )
    if form.is_valid():
        sheet = selectors.scoresheet_get_for_user(request.user, form.cleaned_data["sheet"])
        try:
            sheet_services.scoresheet_reopen(
                sheet=sheet,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                explanation=form.cleaned_data["explanation"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "The sheet is reopened and its member was e-mailed; the ranking is "
                    "recomputed when the corrected sheet is submitted."
                ),
            )
            return redirect("evaluation:ranking", pk=tender.pk)
    return _ranking_page(request, tender, reopen_form=form)


@login_required
@require_POST
def ranking_objective(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The chair corrects an inconsistent objective score; the ranking is recomputed."""
    tender = tender_selectors.tender_get_for_user(request.user, pk)
    panel = selectors.panel_get_for_user(request.user, tender)
    _require(permissions.can_correct_objective_score(request.user, panel))
    scores = {s.pk: s for s in selectors.objective_scores_for_user(request.user, tender)}
    form = forms.ObjectiveCorrectionForm(
        request.POST, prefix="objective", scores=_objective_choices(request.user, tender)
    )
    if form.is_valid():
        value = form.cleaned_data["value"]
        try:
            sheet_services.objective_score_correct(
                score=scores[form.cleaned_data["score"]],
                actor=request.user,
                value=None if value is None else str(value),
                explanation=form.cleaned_data["explanation"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request, _("The objective score is corrected; the ranking is recomputed.")
            )
            return redirect("evaluation:ranking", pk=tender.pk)
    return _ranking_page(request, tender, objective_form=form)


# --- Price justifications ------------------------------------------------------------------------


def _justification_page(
    request: AuthenticatedRequest,
    pk: int,
    *,
    submit_form: Any = None,
    decide_form: Any = None,
    action_errors: Iterable[str] = (),
) -> HttpResponse:
    user = request.user
    justification = selectors.justification_get_for_user(user, pk)
    tender = justification.bid.tender
    panel = _panel_or_none(user, tender)
    can_submit = permissions.can_submit_justification(user, justification)
    can_decide = panel is not None and permissions.can_decide_justification(
        user, justification, panel
    )
    context = {
        "justification": justification,
        "tender": tender,
        "panel": panel,
        "percent": f"{Decimal(justification.ratio) * 100:.0f}",
        "overdue": timezone.now() > justification.due_at,
        "can_submit": can_submit,
        "can_decide": can_decide,
        "submit_form": submit_form or (forms.JustificationForm() if can_submit else None),
        "decide_form": decide_form or (forms.DecisionForm() if can_decide else None),
        "action_errors": list(action_errors),
    }
    return render(request, "evaluation/justification.html", context)


@login_required
@require_GET
def justification(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """An abnormally low price (87号令 Art. 60): the bidder explains it, the chair decides."""
    return _justification_page(request, pk)


@login_required
@require_POST
def justification_submit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The bidder's organization administrator submits the written justification."""
    item = selectors.justification_get_for_user(request.user, pk)
    form = forms.JustificationForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            panel_services.justification_submit(
                justification=item,
                actor=request.user,
                text=form.cleaned_data["text"],
                upload=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Your justification is submitted; the panel decides on it.")
            )
            return redirect("evaluation:justification", pk=item.pk)
    if not permissions.can_submit_justification(request.user, item):
        errors = [str(error) for error in form.non_field_errors()]
        return _justification_page(request, pk, action_errors=errors)
    return _justification_page(request, pk, submit_form=form)


@login_required
@require_POST
def justification_decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The panel's decision, recorded by its chair with reasons."""
    item = selectors.justification_get_for_user(request.user, pk)
    form = forms.DecisionForm(request.POST)
    if form.is_valid():
        try:
            panel_services.justification_decide(
                justification=item,
                actor=request.user,
                accept=form.accept,
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The panel's decision is recorded."))
            return redirect("evaluation:justification", pk=item.pk)
    return _justification_page(request, pk, decide_form=form)


@login_required
@require_GET
def justification_document(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """The justification's document, as a download (never shown inline)."""
    item, data = selectors.justification_document_for_download(request.user, pk)
    name = item.document_name or "document"
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = next((k for k, ext in DOCUMENT_EXTENSIONS.items() if ext == extension), "")
    content_type = DOCUMENT_CONTENT_TYPES.get(kind, "application/octet-stream")
    response = attachment(data, name=name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response
