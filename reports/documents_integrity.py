"""Printable documents of the integrity screens: the integrity report (诚信/风险线索报告) of one
screen run (DESIGN 5).

The report of a finished run gives its counts per flag kind, then every flag the run found,
by kind, in its review state today: severity, subject, who reviewed or resolved it, when and
why, and its evidence in a few lines. Only the street office and auditors read it (a flag is
an allegation until a reviewer confirms it): for anyone else it is a 404 like a missing run.
ID numbers and phones in the evidence are masked except for auditors (DESIGN 4.1); the
system (``render_report``) prints them masked too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, Q, QuerySet, Value
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evaluation.models import (
    FlagKind,
    FlagStatus,
    IntegrityFlag,
    IntegrityRun,
    RunStatus,
)
from evaluation.permissions import integrity as integrity_permissions
from evaluation.selectors import integrity as integrity_selectors
from reports.documents import Document, register

# How much of a flag's evidence the report prints: the rest is on the flag's page.
EVIDENCE_ITEMS = 8
EVIDENCE_LIST_ITEMS = 3
EVIDENCE_CHARS = 240

# Labels of the evidence keys the screens write (evaluation.services.integrity); other keys
# are printed as they are stored.
EVIDENCE_LABELS: dict[str, Any] = {
    "probability": _("probability"),
    "matched_fields": _("matched fields"),
    "overlap": _("overlap"),
    "person": _("person"),
    "post": _("roster post"),
    "posts": _("roster posts"),
    "posts_count": _("posts"),
    "name": _("name"),
    "id_number": _("ID number"),
    "birth_date": _("birth date"),
    "phone": _("phone"),
    "role": _("role"),
    "fte": _("FTE"),
    "category": _("category"),
    "service_period": _("service period"),
    "fully_funded": _("fully funded"),
    "units": _("units"),
    "employing_unit": _("employing unit"),
    "price": _("price"),
    "subsidy": _("subsidy"),
    "recipient": _("recipient"),
    "purpose": _("purpose"),
    "amount": _("amount"),
    "start": _("start"),
    "end": _("end"),
    "day": _("day"),
    "commitments": _("commitments"),
    "similarity": _("similarity"),
    "description": _("description"),
    "other": _("other project"),
    "uscc": _("credit code"),
    "funding_type": _("funding type"),
    "threshold": _("threshold"),
    "screens": _("screens"),
    "rule": _("rule"),
    "row": _("row"),
    "tender": _("tender"),
}


def _finished() -> QuerySet[IntegrityRun]:
    return IntegrityRun.objects.filter(status=RunStatus.FINISHED).select_related(
        "tender", "requested_by"
    )


def integrity_report_for_user(user: Any, pk: int) -> IntegrityRun:
    """A finished run for the street office and auditors; 404 for anyone else and for a run
    that is queued, running or failed."""
    run = integrity_selectors.run_get_for_user(user, pk)
    if run.status != RunStatus.FINISHED:
        raise Http404
    return run


def integrity_report_by_id(pk: int) -> IntegrityRun:
    run = IntegrityRun.objects.select_related("tender", "requested_by").filter(pk=pk).first()
    if run is None:
        raise LookupError("no such integrity screen run")
    if run.status != RunStatus.FINISHED:
        raise LookupError(f"the run is {run.status}, not finished")
    return run


def integrity_report_latest() -> IntegrityRun | None:
    """The last finished run."""
    return _finished().order_by("-finished_at", "-pk").first()


def run_flags(run: IntegrityRun) -> QuerySet[IntegrityFlag]:
    """The flags ``run`` found, in their review state now.

    A flag found again by a later run points at that run (``last_run``), so the flags of an
    older run are also those in its scope (its tender, or everything) and of its kinds that
    existed when it finished and were still found when it started; a flag that this run no
    longer found but a later one found again is counted among them too.
    """
    found = Q(last_run=run)
    if run.started_at is not None and run.finished_at is not None:
        window = Q(
            first_seen_at__lte=run.finished_at,
            last_seen_at__gte=run.started_at,
            kind__in=sorted(run.counts),
        )
        if run.tender_id is not None:
            window &= Q(tender_id=run.tender_id)
        found |= window
    return (
        IntegrityFlag.objects.filter(found)
        .select_related(
            "tender", "bid__organization", "organization", "person", "reviewed_by", "resolved_by"
        )
        .order_by(
            "kind",
            Case(*integrity_selectors.SEVERITY_ORDER, default=Value(9)),
            "subject_label",
            "pk",
        )
    )


@dataclass(frozen=True)
class FlagLine:
    flag: IntegrityFlag
    evidence: list[tuple[str, str]]


@dataclass(frozen=True)
class KindSection:
    kind: str
    label: str
    found: int  # the run's count
    flags: list[FlagLine]
    open: int
    confirmed: int
    dismissed: int
    resolved: int


def _text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, Mapping):
        return "; ".join(f"{_label(key)}: {_text(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        shown = [_text(item) for item in value[:EVIDENCE_LIST_ITEMS]]
        if len(value) > EVIDENCE_LIST_ITEMS:
            shown.append(f"… (+{len(value) - EVIDENCE_LIST_ITEMS})")
        return " | ".join(shown)
    return str(value)


def _label(key: Any) -> str:
    return str(EVIDENCE_LABELS.get(str(key), key))


def evidence_summary(evidence: Any) -> list[tuple[str, str]]:
    """The evidence as (label, text) lines, shortened; the flag's page has it in full."""
    if not isinstance(evidence, Mapping):
        return [("", _text(evidence)[:EVIDENCE_CHARS])] if evidence else []
    lines = []
    for key, value in list(evidence.items())[:EVIDENCE_ITEMS]:
        text = _text(value)
        if len(text) > EVIDENCE_CHARS:
            text = text[: EVIDENCE_CHARS - 1] + "…"
        lines.append((_label(key), text))
    return lines


def integrity_report_context(run: IntegrityRun, user: Any) -> dict[str, Any]:
    """The run, its counts per kind and its flags by kind (masked evidence but for
    auditors); two queries."""
    by_kind: dict[str, list[FlagLine]] = {}
    for flag in run_flags(run):
        evidence = integrity_selectors.masked_evidence(user, flag.evidence)
        by_kind.setdefault(flag.kind, []).append(
            FlagLine(flag=flag, evidence=evidence_summary(evidence))
        )
    sections = []
    for kind in FlagKind:
        lines = by_kind.get(kind.value, [])
        if kind.value not in run.counts and not lines:
            continue
        statuses = [line.flag.status for line in lines]
        sections.append(
            KindSection(
                kind=kind.value,
                label=str(kind.label),
                found=int(run.counts.get(kind.value, 0)),
                flags=lines,
                open=statuses.count(FlagStatus.OPEN),
                confirmed=statuses.count(FlagStatus.CONFIRMED),
                dismissed=statuses.count(FlagStatus.DISMISSED),
                resolved=statuses.count(FlagStatus.RESOLVED),
            )
        )
    finished: datetime | None = timezone.localtime(run.finished_at) if run.finished_at else None
    return {
        "run": run,
        "sections": sections,
        "total_found": sum(section.found for section in sections),
        "total_listed": sum(len(section.flags) for section in sections),
        "unmasked": integrity_permissions.can_see_id_numbers(user),
        "number": f"IR-{finished:%Y%m%d}-{run.pk:04d}" if finished else f"IR-{run.pk:04d}",
    }


def _filename(run: IntegrityRun) -> str:
    return f"integrity-report-{run.pk}"


register(
    Document(
        kind="integrity_report",
        label=_("Integrity report"),
        template="reports/documents/integrity_report.html",
        for_user=integrity_report_for_user,
        by_id=integrity_report_by_id,
        latest=integrity_report_latest,
        context=integrity_report_context,
        filename=_filename,
    )
)
