"""Printable documents of the procurement itself: the tender notice (招标公告), the opening
record (开标记录) and the award notice (中标/成交结果公告).

Each is found for a user exactly as the tender's page shows it: the tender through
``tenders.selectors.tender_get_for_user`` (a draft or one waiting for approval is the street
office's), the opening record only once the bids were opened (the seal, DESIGN 6: not even
an official prints one before), the award notice only while an award is in force. The
documents carry nothing the public page does not: no asker of a question, no sealed
content, no member's scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evaluation.models import MemberStatus, PanelMember
from reports.documents import Document, register
from tenders import permissions, selectors
from tenders.models import (
    PUBLIC_TENDER_STATES,
    Amendment,
    Award,
    AwardStatus,
    Bid,
    BidStatus,
    Question,
    QuestionStatus,
    Tender,
    TenderDocument,
    TenderStatus,
)

# An award notice exists while its award is in force, never for these (selectors.award_notice).
NO_AWARD_STATES = (TenderStatus.FAILED, TenderStatus.CANCELLED)


def _tenders() -> QuerySet[Tender]:
    """Tenders with what every document prints of them, in a fixed number of queries."""
    return Tender.objects.select_related("category").prefetch_related(
        "communities", "criteria", "documents"
    )


def _tender_by_id(pk: int, *, needs: Callable[[Tender], bool], missing: str) -> Tender:
    tender = _tenders().filter(pk=pk).first()
    if tender is None:
        raise LookupError("no such tender")
    if not needs(tender):
        raise LookupError(missing)
    return tender


def _number(tender: Tender, suffix: str = "") -> str:
    """The document number: the tender's reference, with the document's suffix."""
    base = tender.reference or f"T{tender.pk}"
    return f"{base}-{suffix}" if suffix else base


def _file_stem(tender: Tender, name: str) -> str:
    return f"{name}-{tender.reference or tender.pk}"


def _tender_facts(tender: Tender) -> dict[str, Any]:
    """The facts every document of the tender repeats under its title."""
    return {
        "tender": tender,
        "communities": [community.name for community in tender.communities.all()],
    }


# --- Tender notice (招标公告) ----------------------------------------------------------------


def is_published(tender: Tender) -> bool:
    """A notice exists once the approver published the tender (it keeps it afterwards, also
    when the tender failed or was cancelled)."""
    return tender.published_at is not None and permissions.can_view_tender(None, tender)


def tender_notice_for_user(user: Any, pk: int) -> Tender:
    tender = selectors.tender_get_for_user(user, pk)
    if not is_published(tender):
        # A draft has no notice yet, even for the street office that sees its page.
        raise Http404
    return tender


def tender_notice_by_id(pk: int) -> Tender:
    return _tender_by_id(pk, needs=is_published, missing="the tender is not published")


def tender_notice_latest() -> Tender | None:
    return (
        _tenders()
        .filter(published_at__isnull=False, status__in=sorted(PUBLIC_TENDER_STATES))
        .order_by("-published_at", "-pk")
        .first()
    )


def _shown(value: Any) -> str:
    """A value recorded in an amendment (JSON), as a person reads it."""
    if value in (None, ""):
        return "–"
    if isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None and timezone.is_aware(moment):
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
        day = parse_date(value) if len(value) == 10 else None
        if day is not None:
            return day.isoformat()
    return str(value)


@dataclass(frozen=True)
class ChangeRow:
    label: str
    before: str
    after: str


def amendment_rows(amendment: Amendment) -> list[ChangeRow]:
    """Each changed fact of an amendment with its label, before and after (as the tender
    page lists them)."""
    rows = []
    for name, change in (amendment.changes or {}).items():
        if name == "criteria":
            rows.append(ChangeRow(_("Scoring criteria"), "", _("Replaced; see the scheme.")))
            continue
        try:
            label = str(capfirst(Tender._meta.get_field(name).verbose_name))
        except LookupError:
            label = name
        before = change.get("before") if isinstance(change, dict) else None
        after = change.get("after") if isinstance(change, dict) else change
        rows.append(ChangeRow(label, _shown(before), _shown(after)))
    return rows


def tender_notice_context(tender: Tender, user: Any) -> dict[str, Any]:
    """The published tender: facts, eligibility, the scheme, the timeline, the answered
    questions (never who asked) and the amendments."""
    questions = Question.objects.filter(tender=tender, status=QuestionStatus.ANSWERED).order_by(
        "answered_at", "pk"
    )
    amendments = (
        Amendment.objects.filter(tender=tender)
        .prefetch_related(
            Prefetch("documents", queryset=TenderDocument.objects.order_by("uploaded_at", "pk"))
        )
        .order_by("number")
    )
    return {
        **_tender_facts(tender),
        "number": _number(tender),
        "criteria": list(tender.criteria.all()),
        "documents": list(tender.documents.all()),
        # Whole rows: deferring a field of this FSM model costs a query per question.
        "questions": list(questions),
        "amendments": [(amendment, amendment_rows(amendment)) for amendment in amendments],
    }


register(
    Document(
        kind="tender_notice",
        label=gettext_lazy("Tender notice"),
        template="reports/documents/tender_notice.html",
        for_user=tender_notice_for_user,
        by_id=tender_notice_by_id,
        latest=tender_notice_latest,
        context=tender_notice_context,
        filename=lambda tender: _file_stem(tender, "tender-notice"),
    )
)


# --- Opening record (开标记录) ---------------------------------------------------------------


def opening_record_for_user(user: Any, pk: int) -> Tender:
    tender = selectors.tender_get_for_user(user, pk)
    # Sealed until the opening: there is no record before it, for anybody.
    if not permissions.can_see_opening_record(user, tender):
        raise Http404
    return tender


def opening_record_by_id(pk: int) -> Tender:
    return _tender_by_id(pk, needs=permissions.is_opened, missing="the bids are not opened yet")


def opening_record_latest() -> Tender | None:
    return _tenders().filter(opened_at__isnull=False).order_by("-opened_at", "-pk").first()


def opening_record_context(tender: Tender, user: Any) -> dict[str, Any]:
    """The record of the opening: when, by which two officials, each opened bid's price and
    receipt, and the bids that were not opened (withdrawn, or not confirmed after an
    amendment)."""
    record = selectors.opening_record(tender)
    withdrawn = Bid.objects.filter(tender=tender, status=BidStatus.WITHDRAWN).count()
    return {
        **_tender_facts(tender),
        "number": _number(tender, "KB"),
        "record": record,
        "confirmations": list(selectors.opening_confirmations(tender)),
        "withdrawn": withdrawn,
    }


register(
    Document(
        kind="opening_record",
        label=gettext_lazy("Opening record"),
        template="reports/documents/opening_record.html",
        for_user=opening_record_for_user,
        by_id=opening_record_by_id,
        latest=opening_record_latest,
        context=opening_record_context,
        filename=lambda tender: _file_stem(tender, "opening-record"),
    )
)


# --- Award notice (中标/成交结果公告) -----------------------------------------------------------


def has_award_notice(tender: Tender) -> bool:
    """An award in force, published with its notice (none after a withdrawal, for a failed
    or a cancelled tender)."""
    if tender.status in NO_AWARD_STATES:
        return False
    return Award.objects.filter(tender=tender, status=AwardStatus.ACTIVE).exists()


def award_notice_for_user(user: Any, pk: int) -> Tender:
    tender = selectors.tender_get_for_user(user, pk)
    if not has_award_notice(tender):
        raise Http404
    return tender


def award_notice_by_id(pk: int) -> Tender:
    return _tender_by_id(pk, needs=has_award_notice, missing="no award is in force")


def award_notice_latest() -> Tender | None:
    award = (
        Award.objects.filter(status=AwardStatus.ACTIVE)
        .exclude(tender__status__in=NO_AWARD_STATES)
        .order_by("-notice_published_at", "-pk")
        .only("tender_id")
        .first()
    )
    return _tenders().get(pk=award.tender_id) if award is not None else None


@dataclass(frozen=True)
class PanelName:
    name: str
    kind_label: str
    is_chair: bool


def panel_names(tender: Tender) -> list[PanelName]:
    """The names of the panel that evaluated the bids (87号令 Art. 69: the award notice
    lists them; until the award they are kept from the bidders). Names only: members who
    were replaced after declaring a conflict did not evaluate and are not listed."""
    members = (
        PanelMember.objects.filter(panel__tender=tender)
        .exclude(status=MemberStatus.REPLACED)
        .select_related("user", "panel")
        .order_by("seat", "pk")
    )
    return [
        PanelName(
            name=member.user.get_full_name(),
            kind_label=str(member.get_kind_display()),
            is_chair=member.user_id == member.panel.chair_id,
        )
        for member in members
    ]


def award_notice_context(tender: Tender, user: Any) -> dict[str, Any]:
    """The winner and its price, every ranked bidder's total and rank, the notice and
    challenge windows, the panel's names and any withdrawn earlier award."""
    notice = selectors.award_notice(tender)
    if notice is None:
        raise LookupError("no award is in force")
    return {
        **_tender_facts(tender),
        "number": _number(tender, "ZB"),
        "notice": notice,
        "panel": panel_names(tender),
        "withdrawn_awards": selectors.withdrawn_awards(tender),
    }


register(
    Document(
        kind="award_notice",
        label=gettext_lazy("Award notice"),
        template="reports/documents/award_notice.html",
        for_user=award_notice_for_user,
        by_id=award_notice_by_id,
        latest=award_notice_latest,
        context=award_notice_context,
        filename=lambda tender: _file_stem(tender, "award-notice"),
    )
)
