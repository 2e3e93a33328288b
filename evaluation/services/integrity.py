"""Integrity screens (DESIGN 5): running them, storing what they find, reviewing the flags.

``screens_run`` reads the registries, bids, contracts and tenders into DataFrames, runs
the double-funding screens 1-6 and the collusion and bias screens, and creates or refreshes
one ``IntegrityFlag`` per finding. A finding's fingerprint (kind, subject, the records that
matched) makes a second run, the command, the background task and the triggers after a bid
opening or a contract change all arrive at the same flags: a flag found again is refreshed,
a dismissed or resolved one stays so unless its evidence changed (then it is reopened), and
one no longer found is marked ``gone_at``.

Each screen stores its findings in its own transaction and the run's progress is written
between them, so that a page or the API can show how far a long run got.

Review (``flag_confirm``, ``flag_dismiss``, ``flag_resolve``) follows STYLE.md: one
transaction, the flag locked, the predicate checked, the django-fsm transition, one audit
event, e-mail after commit. Confirmed double funding blocks the award or payment it concerns
(``evaluation.selectors.integrity.blocking_flags``) until resolved.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluation import integrity
from evaluation.integrity import Finding
from evaluation.models import (
    FlagKind,
    FlagSeverity,
    FlagStatus,
    IntegrityFlag,
    IntegrityRun,
    RunStatus,
    RunTrigger,
)
from evaluation.permissions import integrity as permissions
from marketplace.audit import audit_record
from marketplace.fsm import fire
from marketplace.models import AuditAction, User
from marketplace.notifications import email_user
from orgs_registry.models import (
    EXCLUDED_FUNDING_TYPES,
    FundingImportKind,
    Organization,
    PostFunding,
    PostType,
    StaffingRecord,
    Subsidy,
)
from tenders.models import (
    Award,
    AwardStatus,
    Bid,
    BidStaff,
    BidStatus,
    Contract,
    ContractStatus,
    ContractTeamMember,
    Tender,
    TenderStatus,
)

logger = logging.getLogger(__name__)

Progress = Callable[[int, str], None]

NOTE_MAX = 4000
# Employing units on the roster that are the purchasing unit: the street office and the
# public institutions under it carry its name [cfg].
PURCHASING_UNIT_MARKERS: tuple[str, ...] = tuple(
    getattr(settings, "INTEGRITY_PURCHASING_UNITS", ("解放碑街道",))
)
# Tenders the screens look at: published and later, not cancelled or failed.
SCREENED_TENDER_STATES = (
    TenderStatus.PUBLISHED,
    TenderStatus.CLOSED,
    TenderStatus.OPENED,
    TenderStatus.EVALUATING,
    TenderStatus.AWARDED,
    TenderStatus.CONTRACTED,
    TenderStatus.IN_DELIVERY,
    TenderStatus.COMPLETED,
)
# Tenders whose project is funded (bought): the "other funded project" of screen 5.
FUNDED_TENDER_STATES = (
    TenderStatus.AWARDED,
    TenderStatus.CONTRACTED,
    TenderStatus.IN_DELIVERY,
    TenderStatus.COMPLETED,
)
# Bids that may still be funded: opened and not out of the competition.
LIVE_BID_STATES = (BidStatus.OPENED, BidStatus.QUALIFIED, BidStatus.RANKED, BidStatus.WON)
LIVE_CONTRACT_STATES = (ContractStatus.DRAFT, ContractStatus.SIGNED, ContractStatus.ACTIVE)
# Evidence lists longer than this keep the first ones and the count.
EVIDENCE_LIST_MAX = 20


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


# --- Reading the data -----------------------------------------------------------------------------


def _tender_period(tender: Any) -> tuple[date | None, date | None]:
    """The service period; a tender without one is taken to run a year from its deadline."""
    if tender.service_start or tender.service_end:
        return tender.service_start, tender.service_end
    start = timezone.localdate(tender.bid_deadline)
    return start, start + timedelta(days=365)


def _tenders(tender: Tender | None) -> list[Tender]:
    tenders = Tender.objects.filter(status__in=SCREENED_TENDER_STATES).prefetch_related(
        "communities"
    )
    if tender is not None:
        tenders = tenders.filter(pk=tender.pk)
    return list(tenders.order_by("pk"))


def _roster() -> pd.DataFrame:
    """The current staffing roster, one row per post."""
    rows = StaffingRecord.objects.filter(
        funding_import__kind=FundingImportKind.STAFFING, funding_import__is_current=True
    ).values_list(
        "pk",
        "row_number",
        "person_name",
        "id_number",
        "id_number_normalized",
        "birth_date",
        "employing_unit",
        "unit_uscc",
        "post_type",
        "funding_type",
        "category_id",
        "category__code",
        "start",
        "end",
    )
    return pd.DataFrame.from_records(
        list(rows),
        columns=[
            "rec_id",
            "row",
            "name",
            "id_number",
            "id_normalized",
            "birth_date",
            "unit",
            "unit_uscc",
            "post_type",
            "funding_type",
            "category_id",
            "category",
            "start",
            "end",
        ],
    )


def _subsidies() -> pd.DataFrame:
    rows = Subsidy.objects.filter(
        funding_import__kind=FundingImportKind.SUBSIDY, funding_import__is_current=True
    ).values_list(
        "pk",
        "row_number",
        "recipient_name",
        "recipient_uscc",
        "organization_id",
        "category_id",
        "category__code",
        "purpose_text",
        "amount",
        "period_start",
        "period_end",
        "programme",
    )
    return pd.DataFrame.from_records(
        list(rows),
        columns=[
            "subsidy",
            "row",
            "recipient",
            "recipient_uscc",
            "organization_id",
            "category_id",
            "category",
            "purpose",
            "amount",
            "start",
            "end",
            "programme",
        ],
    )


def _post_key(post: Any) -> str:
    """A roster post's identity across imports (row ids change when a roster is re-imported)."""
    person = post.id_normalized or post.id_number or post.name
    return f"post:{person}|{post.unit}|{post.start}"


def _post_json(post: Any) -> dict[str, Any]:
    return integrity.canonical(
        {
            "row": post.row,
            "name": post.name,
            "id_number": post.id_number,
            "birth_date": post.birth_date,
            "employing_unit": post.unit,
            "post_type": post.post_type,
            "funding_type": post.funding_type,
            "category": post.category,
            "start": post.start,
            "end": post.end,
        }
    )


# --- Screen 1: staff on the public payroll --------------------------------------------------------


def _commitments(tender: Tender | None) -> pd.DataFrame:
    """Every live commitment of a person: a seat on an opened bid's staffing plan or on a
    contract's team, with its period (columns below)."""
    columns = [
        "key",
        "kind",
        "person",
        "fte",
        "role",
        "start",
        "end",
        "tender",
        "bid",
        "contract",
        "organization",
        "label",
    ]
    contracted = Contract.objects.filter(status__in=LIVE_CONTRACT_STATES)
    seats = BidStaff.objects.filter(
        bid__status__in=LIVE_BID_STATES, bid__tender__status__in=SCREENED_TENDER_STATES
    ).exclude(bid__tender__contract__in=contracted)  # the contract's team counts instead
    team = ContractTeamMember.objects.filter(contract__status__in=LIVE_CONTRACT_STATES)
    if tender is not None:
        people = set(seats.filter(bid__tender=tender).values_list("person_id", flat=True))
        people |= set(team.filter(contract__tender=tender).values_list("person_id", flat=True))
        seats = seats.filter(person_id__in=people)
        team = team.filter(person_id__in=people)
    records: list[dict[str, Any]] = []
    for seat in seats.select_related("bid__tender", "bid__organization"):
        start, end = _tender_period(seat.bid.tender)
        records.append(
            {
                "key": f"bid:{seat.bid_id}",
                "kind": "bid",
                "person": seat.person_id,
                "fte": float(seat.fte),
                "role": seat.role,
                "start": start,
                "end": end,
                "tender": seat.bid.tender_id,
                "bid": seat.bid_id,
                "contract": None,
                "organization": seat.bid.organization_id,
                "label": f"{seat.bid.tender.reference or seat.bid.tender_id} "
                f"{seat.bid.organization.name}",
            }
        )
    for member in team.select_related("contract__organization"):
        period = integrity.overlap(
            member.contract.service_start,
            member.contract.service_end,
            member.joined_on,
            member.left_on,
        )
        if period is None:
            continue
        records.append(
            {
                "key": f"contract:{member.contract_id}",
                "kind": "contract",
                "person": member.person_id,
                "fte": float(member.fte),
                "role": member.role,
                "start": period[0],
                "end": period[1] if period[1] != integrity.OPEN_END else None,
                "tender": member.contract.tender_id,
                "bid": None,
                "contract": member.contract_id,
                "organization": member.contract.organization_id,
                "label": f"{member.contract.reference} {member.contract.organization.name}",
            }
        )
    return pd.DataFrame.from_records(records, columns=columns)


def staff_on_public_payroll(tender: Tender | None = None) -> list[Finding]:
    """Screen 1: a person on a bid's staffing plan or a contract's team holds a fiscally
    funded post overlapping the service period (people matched by record linkage)."""
    commitments = _commitments(tender)
    if commitments.empty:
        return []
    roster = _roster()
    if roster.empty:
        return []
    from orgs_registry.models import Person

    people = pd.DataFrame.from_records(
        list(
            Person.objects.filter(pk__in=set(commitments["person"])).values_list(
                "pk", "name", "id_number", "birth_date", "phone"
            )
        ),
        columns=["rec_id", "name", "id_number", "birth_date", "phone"],
    )
    pairs = integrity.link_people(
        people[["rec_id", "name", "id_number", "birth_date"]],
        roster[["rec_id", "name", "id_number", "birth_date"]],
    )
    if pairs.empty:
        return []
    pairs = pairs.rename(columns={"left_id": "person", "right_id": "rec_id"})
    matched = pairs.merge(commitments, on="person").merge(
        roster.rename(columns={"start": "post_start", "end": "post_end", "name": "post_name"}),
        on="rec_id",
    )
    matched = matched[
        integrity.overlaps_frame(matched, ("start", "end"), ("post_start", "post_end"))
    ]
    by_person = people.set_index("rec_id")
    findings = []
    for row in matched.itertuples(index=False):  # the flagged few, not the roster
        person = by_person.loc[row.person]
        post = _roster_row(row)
        probability = float(row.probability)
        period = integrity.overlap(row.start, row.end, row.post_start, row.post_end)
        high = probability >= 0.95 and row.funding_type == PostFunding.FULL
        findings.append(
            Finding(
                kind=FlagKind.STAFF_ON_PUBLIC_PAYROLL,
                severity=FlagSeverity.HIGH if high else FlagSeverity.MEDIUM,
                subject_label=f"{person['name']} · {row.label}",
                score=round(probability, 4),
                keys=(_post_key(post),),
                tender_id=int(row.tender),
                bid_id=row.bid if row.kind == "bid" else None,
                contract_id=int(row.contract) if row.kind == "contract" else None,
                organization_id=int(row.organization),
                person_id=int(row.person),
                evidence={
                    "probability": round(probability, 4),
                    "matched_fields": integrity.evidence_fields(row.evidence),
                    "overlap": integrity.period_json(period),
                    "person": integrity.canonical(
                        {
                            "name": person["name"],
                            "id_number": person["id_number"],
                            "birth_date": person["birth_date"],
                            "role": row.role,
                            "fte": row.fte,
                        }
                    ),
                    "post": _post_json(post),
                    "commitment": integrity.canonical(
                        {
                            "kind": row.kind,
                            "label": row.label,
                            "start": row.start,
                            "end": row.end,
                        }
                    ),
                },
            )
        )
    return findings


@dataclass(frozen=True)
class _Post:
    row: int
    name: str
    id_number: str
    id_normalized: str
    birth_date: Any
    unit: str
    post_type: str
    funding_type: str
    category: str | None
    start: Any
    end: Any


def _roster_row(row: Any) -> _Post:
    return _Post(
        row=int(row.row),
        name=row.post_name,
        id_number=row.id_number,
        id_normalized=row.id_normalized,
        birth_date=row.birth_date,
        unit=row.unit,
        post_type=row.post_type,
        funding_type=row.funding_type,
        category=row.category,
        start=row.post_start,
        end=row.post_end if not pd.isna(row.post_end) else None,
    )


# --- Screen 2: the purchasing unit keeps staff for the function -----------------------------------


def unit_keeps_staff_for_function(tender: Tender | None = None) -> list[Finding]:
    """Screen 2: the purchasing unit holds funded posts in the tender's service category
    overlapping its period (buying a function that is still staffed: 机构编制)."""
    tenders = _tenders(tender)
    if not tenders:
        return []
    posts = StaffingRecord.objects.filter(
        funding_import__kind=FundingImportKind.STAFFING,
        funding_import__is_current=True,
        category_id__in={t.category_id for t in tenders},
    )
    markers = Q()
    for marker in PURCHASING_UNIT_MARKERS:
        markers |= Q(employing_unit__contains=marker)
    posts = posts.filter(markers).select_related("category").order_by("row_number")
    by_category: dict[int, list[StaffingRecord]] = {}
    for post in posts:
        by_category.setdefault(post.category_id or 0, []).append(post)
    findings = []
    for item in tenders:
        start, end = _tender_period(item)
        held = [
            post
            for post in by_category.get(item.category_id, [])
            if integrity.overlap(start, end, post.start, post.end)
        ]
        if not held:
            continue
        full = sum(1 for post in held if post.funding_type == PostFunding.FULL)
        findings.append(
            Finding(
                kind=FlagKind.UNIT_KEEPS_STAFF_FOR_FUNCTION,
                severity=FlagSeverity.HIGH if full else FlagSeverity.MEDIUM,
                subject_label=f"{item.reference or item.pk} {item.title}",
                score=1.0,
                tender_id=item.pk,
                evidence=integrity.canonical(
                    {
                        "category": item.category.code,
                        "service_period": {"start": start, "end": end},
                        "posts_count": len(held),
                        "fully_funded": full,
                        "units": sorted({post.employing_unit for post in held}),
                        "posts": [
                            {
                                "row": post.row_number,
                                "name": post.person_name,
                                "id_number": post.id_number,
                                "employing_unit": post.employing_unit,
                                "post_type": post.post_type,
                                "funding_type": post.funding_type,
                                "function": post.function_text,
                                "start": post.start,
                                "end": post.end,
                                "overlap": integrity.period_json(
                                    integrity.overlap(start, end, post.start, post.end)
                                ),
                            }
                            for post in held[:EVIDENCE_LIST_MAX]
                        ],
                    }
                ),
            )
        )
    return findings


# --- Screen 3: the winner has a subsidy for the same service --------------------------------------


def _winners(tender: Tender | None) -> list[tuple[Tender, Bid]]:
    """The winning bid of each awarded tender, and the first-ranked bid of each tender still
    under evaluation (so that a confirmed flag can stop its award)."""
    from evaluation.models import RankingRow

    awards = Award.objects.filter(status=AwardStatus.ACTIVE).select_related(
        "tender__category", "bid__organization"
    )
    firsts = RankingRow.objects.filter(
        position=1, ranking__tender__status=TenderStatus.EVALUATING
    ).select_related("ranking__tender__category", "bid__organization")
    if tender is not None:
        awards = awards.filter(tender=tender)
        firsts = firsts.filter(ranking__tender=tender)
    pairs = [(award.tender, award.bid) for award in awards]
    pairs += [(row.ranking.tender, row.bid) for row in firsts]
    return pairs


def subsidy_overlap(tender: Tender | None = None) -> list[Finding]:
    """Screen 3: the winning organization receives a subsidy for the tender's category in
    an overlapping period."""
    winners = _winners(tender)
    if not winners:
        return []
    subsidies = _subsidies()
    if subsidies.empty:
        return []
    contracts = dict(
        Contract.objects.filter(tender__in=[t for t, _bid in winners]).values_list(
            "tender_id", "pk"
        )
    )
    findings = []
    for item, bid in winners:
        organization = bid.organization
        start, end = _tender_period(item)
        mine = subsidies[
            (
                (subsidies["organization_id"] == organization.pk)
                | (subsidies["recipient_uscc"] == organization.uscc)
            )
            & (subsidies["category_id"] == item.category_id)
        ]
        for grant in mine.itertuples(index=False):
            period = integrity.overlap(start, end, grant.start, grant.end)
            if period is None:
                continue
            findings.append(
                Finding(
                    kind=FlagKind.SUBSIDY_OVERLAP,
                    severity=FlagSeverity.HIGH,
                    subject_label=f"{organization.name} · {item.reference or item.pk}",
                    score=1.0,
                    keys=(
                        (
                            f"subsidy:{grant.recipient_uscc or grant.recipient}|{grant.category}|"
                            f"{grant.start}|{grant.end}|{grant.amount}"
                        ),
                    ),
                    tender_id=item.pk,
                    bid_id=bid.pk,
                    contract_id=contracts.get(item.pk),
                    organization_id=organization.pk,
                    evidence=integrity.canonical(
                        {
                            "category": grant.category,
                            "overlap": integrity.period_json(period),
                            "service_period": {"start": start, "end": end},
                            "price": bid.price,
                            "subsidy": {
                                "row": grant.row,
                                "recipient": grant.recipient,
                                "recipient_uscc": grant.recipient_uscc,
                                "purpose": grant.purpose,
                                "amount": grant.amount,
                                "start": grant.start,
                                "end": grant.end,
                                "programme": grant.programme,
                            },
                        }
                    ),
                )
            )
    return findings


# --- Screen 4: people committed above full time ---------------------------------------------------


def staff_overcommitted(tender: Tender | None = None) -> list[Finding]:
    """Screen 4: a person is committed above 1.0 FTE across concurrent contracts and bids."""
    commitments = _commitments(tender)
    peaks = integrity.fte_peaks(commitments)
    if not peaks:
        return []
    from orgs_registry.models import Person

    names = dict(
        Person.objects.filter(pk__in=[peak.person_id for peak in peaks]).values_list("pk", "name")
    )
    findings = []
    for peak in peaks:
        running = commitments[
            (commitments["person"] == peak.person_id) & commitments["key"].isin(peak.commitments)
        ]
        findings.append(
            Finding(
                kind=FlagKind.STAFF_OVERCOMMITTED,
                severity=FlagSeverity.HIGH if peak.fte >= 1.5 else FlagSeverity.MEDIUM,
                subject_label=names.get(peak.person_id, str(peak.person_id)),
                score=round(peak.fte, 4),
                keys=tuple(peak.commitments),
                person_id=peak.person_id,
                evidence=integrity.canonical(
                    {
                        "fte": round(peak.fte, 2),
                        "day": peak.day,
                        "commitments": [
                            {
                                "kind": row.kind,
                                "label": row.label,
                                "tender": row.tender,
                                "fte": row.fte,
                                "role": row.role,
                                "start": row.start,
                                "end": row.end,
                            }
                            for row in running.itertuples(index=False)
                        ],
                    }
                ),
            )
        )
    return findings


# --- Screen 5: near-identical funded projects -----------------------------------------------------


def duplicate_project(tender: Tender | None = None) -> list[Finding]:
    """Screen 5: a tender's description is near-identical (TF-IDF cosine) to another funded
    project (an awarded tender or a subsidy) in the same area and period."""
    subjects = _tenders(tender)
    if not subjects:
        return []
    funded = list(
        Tender.objects.filter(status__in=FUNDED_TENDER_STATES)
        .prefetch_related("communities")
        .order_by("pk")
    )
    items: dict[str, dict[str, Any]] = {}
    for item in [*subjects, *funded]:
        start, end = _tender_period(item)
        items[f"tender:{item.pk}"] = {
            "tender": item,
            "text": f"{item.title}\n{item.description}",
            "start": start,
            "end": end,
            "areas": {c.pk for c in item.communities.all()},
            "category": item.category_id,
        }
    subsidies = _subsidies()
    for grant in subsidies.itertuples(index=False):
        if len(grant.purpose or "") >= 20:  # a few words say nothing about the project
            items[f"subsidy:{grant.subsidy}"] = {
                "subsidy": grant,
                "text": grant.purpose,
                "start": grant.start,
                "end": grant.end,
                "areas": set(),
                "category": grant.category_id,
            }
    funded_keys = [f"tender:{item.pk}" for item in funded] + [
        key for key in items if key.startswith("subsidy:")
    ]
    candidates = []
    for subject in subjects:
        a = f"tender:{subject.pk}"
        mine = items[a]
        for b in funded_keys:
            other = items[b]
            if b == a:
                continue
            # Two funded tenders: the later one is the duplicate (one flag per pair).
            later = "tender" in other and other["tender"].pk > subject.pk
            if later and subject.status in FUNDED_TENDER_STATES:
                continue
            same_area = not mine["areas"] or not other["areas"] or mine["areas"] & other["areas"]
            period = integrity.overlap(mine["start"], mine["end"], other["start"], other["end"])
            if same_area and period is not None:
                candidates.append({"a": a, "b": b})
    if not candidates:
        return []
    texts = pd.DataFrame([{"key": key, "text": value["text"]} for key, value in items.items()])
    pairs = integrity.similar_pairs(texts, candidates=pd.DataFrame(candidates))
    findings = []
    for pair in pairs.itertuples(index=False):
        subject = items[pair.a]["tender"]
        other = items[pair.b]
        if "tender" in other:
            described = {
                "kind": "tender",
                "reference": other["tender"].reference,
                "title": other["tender"].title,
                "status": other["tender"].status,
                "description": other["tender"].description[:500],
            }
        else:
            grant = other["subsidy"]
            described = {
                "kind": "subsidy",
                "recipient": grant.recipient,
                "purpose": grant.purpose,
                "amount": grant.amount,
                "row": grant.row,
            }
        findings.append(
            Finding(
                kind=FlagKind.DUPLICATE_PROJECT,
                severity=FlagSeverity.HIGH if pair.similarity >= 0.95 else FlagSeverity.MEDIUM,
                subject_label=f"{subject.reference or subject.pk} {subject.title}",
                score=round(float(pair.similarity), 4),
                keys=(pair.b,),
                tender_id=subject.pk,
                evidence=integrity.canonical(
                    {
                        "similarity": round(float(pair.similarity), 4),
                        "overlap": integrity.period_json(
                            integrity.overlap(
                                items[pair.a]["start"],
                                items[pair.a]["end"],
                                other["start"],
                                other["end"],
                            )
                        ),
                        "description": subject.description[:500],
                        "other": {**described, "start": other["start"], "end": other["end"]},
                    }
                ),
            )
        )
    return findings


# --- Screen 6: providers that are, or are funded like, class-1 public institutions ----------------


def excluded_provider(tender: Tender | None = None) -> list[Finding]:
    """Screen 6: a bidder is a 公益一类 unit or a fiscally funded mass organization (财政部令
    第102号 Art. 8), or the roster shows it funded like one (its staff on fully funded
    public-institution posts)."""
    bids = Bid.objects.filter(
        status__in=LIVE_BID_STATES, tender__status__in=SCREENED_TENDER_STATES
    ).select_related("organization", "tender")
    if tender is not None:
        bids = bids.filter(tender=tender)
    bids_list = list(bids.order_by("tender_id", "pk"))
    if not bids_list:
        return []
    organizations = {bid.organization_id: bid.organization for bid in bids_list}
    posts = StaffingRecord.objects.filter(
        funding_import__kind=FundingImportKind.STAFFING,
        funding_import__is_current=True,
        post_type=PostType.PUBLIC_INSTITUTION,
        funding_type=PostFunding.FULL,
    ).filter(
        Q(unit_uscc__in=[org.uscc for org in organizations.values()])
        | Q(employing_unit__in=[org.name for org in organizations.values()])
    )
    funded: Counter[int] = Counter()
    by_code = {org.uscc: org.pk for org in organizations.values()}
    by_name = {org.name: org.pk for org in organizations.values()}
    for uscc, unit in posts.values_list("unit_uscc", "employing_unit"):
        pk = by_code.get(uscc) or by_name.get(unit)
        if pk is not None:
            funded[pk] += 1
    findings = []
    for bid in bids_list:
        organization: Organization = bid.organization
        declared = organization.funding_type in EXCLUDED_FUNDING_TYPES
        posts_count = funded.get(organization.pk, 0)
        if not declared and not posts_count:
            continue
        findings.append(
            Finding(
                kind=FlagKind.EXCLUDED_PROVIDER,
                severity=FlagSeverity.HIGH,
                subject_label=f"{organization.name} · {bid.tender.reference or bid.tender_id}",
                score=1.0,
                tender_id=bid.tender_id,
                bid_id=bid.pk,
                organization_id=organization.pk,
                evidence={
                    "uscc": organization.uscc,
                    "funding_type": organization.funding_type,
                    "declared_excluded": declared,
                    "fully_funded_posts": posts_count,
                    "rule": "财政部令第102号 Art. 8",
                },
            )
        )
    return findings


# --- Storing findings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    kind: str
    run: Callable[[Tender | None], list[Finding]]
    label: str
    # Every kind the screen may find (its flags no longer found are marked gone).
    kinds: tuple[str, ...] = ()

    @property
    def all_kinds(self) -> set[str]:
        return {self.kind, *self.kinds}


# --- Collusion and bias (evaluation.screens) ------------------------------------------------------

# The pure module's flag codes → flag kinds.
SCREEN_KINDS: dict[str, str] = {
    "R018": FlagKind.R018_SINGLE_BID,
    "R028": FlagKind.R028_IDENTICAL_PRICES,
    "R024": FlagKind.R024_CLOSE_SECOND,
    "R058": FlagKind.R058_WINNER_FAR_BELOW,
    "R025": FlagKind.R025_FREQUENT_LOSER,
    "R003": FlagKind.R003_SHORT_PERIOD,
    "shared_person": FlagKind.SHARED_BIDDER_LINK,
    "shared_phone": FlagKind.SHARED_BIDDER_LINK,
    "shared_address": FlagKind.SHARED_BIDDER_LINK,
    "shared_legal_representative": FlagKind.SHARED_BIDDER_LINK,
    "identical_document": FlagKind.SHARED_BIDDER_LINK,
    "assessor_deviation": FlagKind.ASSESSOR_DEVIATION,
    "assessor_affinity": FlagKind.ASSESSOR_AFFINITY,
}
SCREEN_SEVERITY: dict[str, str] = {
    FlagKind.R028_IDENTICAL_PRICES: FlagSeverity.HIGH,
    FlagKind.SHARED_BIDDER_LINK: FlagSeverity.HIGH,
    FlagKind.R025_FREQUENT_LOSER: FlagSeverity.LOW,
    FlagKind.R003_SHORT_PERIOD: FlagSeverity.LOW,
}
# Bids that count as valid for the price screens (opened, not disqualified or withdrawn).
VALID_BID_STATES = (
    BidStatus.OPENED,
    BidStatus.QUALIFIED,
    BidStatus.RANKED,
    BidStatus.WON,
    BidStatus.LOST,
)
METHOD_CODES = {"public_tender": "open", "competitive_consultation": "consultation"}
# A shared person linked from two records below this probability is a medium-severity link
# (the same record on both bids, or a surer link, is high): the cut-off of the payroll screen.
PERSON_LINK_HIGH = 0.95


def _opened_bids() -> pd.DataFrame:
    """Every opened bid with a price: the competition the collusion screens read."""
    from tenders.models import BidReceipt

    bids = list(
        Bid.objects.filter(opened_at__isnull=False, price__isnull=False)
        .exclude(tender__status=TenderStatus.CANCELLED)
        .select_related("organization")
        .order_by("tender_id", "pk")
    )
    if not bids:
        return pd.DataFrame(columns=["tender", "bid", "org", "price", "valid", "winner"])
    people: dict[Any, list[int]] = {}
    people_phones: dict[Any, list[tuple[int, str]]] = {}
    for bid_id, person_id, phone in BidStaff.objects.filter(bid__in=bids).values_list(
        "bid_id", "person_id", "person__phone"
    ):
        people.setdefault(bid_id, []).append(person_id)
        if phone:
            people_phones.setdefault(bid_id, []).append((person_id, phone))
    hashes: dict[Any, list[str]] = {}
    for receipt in BidReceipt.objects.filter(bid__in=bids).order_by("bid_id", "received_at"):
        hashes[receipt.bid_id] = [
            str(item.get("sha256", ""))
            for item in receipt.documents or []
            if isinstance(item, dict)
        ]
    return pd.DataFrame(
        {
            "tender": [bid.tender_id for bid in bids],
            "bid": [str(bid.pk) for bid in bids],
            "org": [bid.organization_id for bid in bids],
            "price": [float(bid.price) for bid in bids],
            "valid": [bid.status in VALID_BID_STATES for bid in bids],
            "winner": [bid.status == BidStatus.WON for bid in bids],
            "people": [people.get(bid.pk, []) for bid in bids],
            "people_phones": [people_phones.get(bid.pk, []) for bid in bids],
            "phones": [[bid.organization.phone] if bid.organization.phone else [] for bid in bids],
            "addresses": [
                [bid.organization.address] if bid.organization.address else [] for bid in bids
            ],
            "legal_rep": [
                [bid.organization.legal_representative]
                if bid.organization.legal_representative
                else []
                for bid in bids
            ],
            "doc_hashes": [hashes.get(bid.pk, []) for bid in bids],
        }
    )


def _tender_frame(tender_ids: Iterable[int]) -> pd.DataFrame:
    rows = Tender.objects.filter(pk__in=list(tender_ids), published_at__isnull=False).values_list(
        "pk", "published_at", "bid_deadline", "method"
    )
    frame = pd.DataFrame.from_records(
        list(rows), columns=["tender", "published", "deadline", "method"]
    )
    frame["method"] = frame["method"].map(METHOD_CODES)
    return frame


def _scores_frame() -> pd.DataFrame:
    """Every submitted score: the panels' judgments the bias screens compare."""
    from evaluation.models import Score, SheetStatus

    rows = Score.objects.filter(
        sheet__status__in=[SheetStatus.SUBMITTED, SheetStatus.LOCKED]
    ).values_list(
        "sheet__bid__tender_id",
        "sheet__member__user_id",
        "sheet__bid_id",
        "sheet__bid__organization_id",
        "criterion__code",
        "criterion__points",
        "score",
    )
    frame = pd.DataFrame.from_records(
        list(rows),
        columns=["tender", "assessor", "bid", "org", "criterion", "points", "score"],
    )
    frame["bid"] = frame["bid"].astype(str)
    frame["points"] = frame["points"].astype(float)
    frame["score"] = frame["score"].astype(float)
    return frame


def _screen_findings(results: pd.DataFrame, labels: dict[int, str]) -> list[Finding]:
    findings = []
    for row in results.itertuples(index=False):
        kind = SCREEN_KINDS.get(row.flag)
        if kind is None:
            continue
        evidence = integrity.canonical({"screen": row.flag, **(row.evidence or {})})
        tender_id = int(row.tender) if row.tender is not None and not pd.isna(row.tender) else None
        org_id = int(row.org) if row.org is not None and not pd.isna(row.org) else None
        assessor_id = evidence.get("assessor") if kind.startswith("assessor") else None
        keys: tuple[str, ...] = (row.flag,)
        severity = SCREEN_SEVERITY.get(kind, FlagSeverity.MEDIUM)
        score = (
            float(evidence.get("z") or evidence.get("gap") or 1.0)
            if kind.startswith("assessor")
            else 1.0
        )
        if kind == FlagKind.SHARED_BIDDER_LINK:
            keys = (row.flag, *sorted(str(b) for b in evidence.get("bids") or []))
            if row.flag == "shared_person":
                # Two records linked, not one record on both bids: as sure as the linkage.
                score = float(evidence.get("probability") or 1.0)
                if score < PERSON_LINK_HIGH:
                    severity = FlagSeverity.MEDIUM
        label = labels.get(tender_id, "") if tender_id else ""
        findings.append(
            Finding(
                kind=kind,
                severity=severity,
                subject_label=label or str(evidence.get("assessor") or org_id or row.flag),
                score=score,
                keys=keys,
                tender_id=tender_id,
                organization_id=org_id,
                assessor_id=int(assessor_id) if assessor_id is not None else None,
                evidence=evidence,
            )
        )
    return findings


def _labels(tender_ids: Iterable[int]) -> dict[int, str]:
    return {
        pk: f"{reference or pk} {title}"
        for pk, reference, title in Tender.objects.filter(pk__in=list(tender_ids)).values_list(
            "pk", "reference", "title"
        )
    }


def _in_scope(findings: list[Finding], tender: Tender | None) -> list[Finding]:
    """A run over one tender keeps that tender's findings (the history is still read)."""
    if tender is None:
        return findings
    return [finding for finding in findings if finding.tender_id == tender.pk]


def red_flag_screen(tender: Tender | None = None) -> list[Finding]:
    """The OCDS red flags R018, R028, R024, R058, R025 and R003 (``evaluation.screens``)."""
    from evaluation import screens

    bids = _opened_bids()
    if bids.empty:
        return []
    tenders = _tender_frame(set(bids["tender"]))
    results = screens.red_flags(bids[["tender", "bid", "org", "price", "valid", "winner"]], tenders)
    findings = _screen_findings(results, _labels(set(bids["tender"])))
    return _in_scope(findings, tender)


def _people_of(bids: pd.DataFrame) -> pd.DataFrame:
    """The people on the bids' staffing plans, for record linkage."""
    from orgs_registry.models import Person

    ids = set(bids["people"].explode().dropna())
    return pd.DataFrame.from_records(
        list(
            Person.objects.filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", "name", "id_number", "birth_date")
        ),
        columns=["rec_id", "name", "id_number", "birth_date"],
    )


def _same_people(people: pd.DataFrame) -> pd.DataFrame:
    """Pairs of person records that record linkage takes for one person. ``Person.id_number``
    is unique (the roster service checks it and makes a legacy 15-digit number the 18-digit
    one), so two records of one human differ in the number: a record carried over with a
    mistyped digit beside the right one, say. The engine weighs the numbers against the names
    (homophones too) and birth dates; two valid numbers it takes for two people."""
    from evaluation.linkage import link

    if len(people) < 2:
        return pd.DataFrame(columns=["left_id", "right_id", "probability", "evidence"])
    # One table linked with itself: each pair once, never a record with itself.
    return link(people, people, {**integrity.PERSON_SPEC, "dedupe": True})


def _describe_people(evidence: dict[str, Any], people: pd.DataFrame) -> dict[str, Any]:
    """The shared people of a ``shared_person`` link named, with their ID numbers (masked by
    the selectors for all but auditors) and the probability that the records are one person."""
    by_id = people.set_index("rec_id")

    def described(person: Any) -> dict[str, Any]:
        if person not in by_id.index:
            return {"person": person}
        row = by_id.loc[person]
        return {
            "person": person,
            "name": row["name"],
            "id_number": row["id_number"],
            "birth_date": row["birth_date"],
        }

    shared = []
    for item in evidence.get("people") or []:
        shared.append(
            {
                "a": described(item["a"]),
                "b": described(item["b"]),
                "same_record": item["a"] == item["b"],
                "probability": item["probability"],
                "matched_fields": integrity.evidence_fields(item.get("fields")),
            }
        )
    return {**evidence, "people": shared}


def bidder_link_screen(tender: Tender | None = None) -> list[Finding]:
    """Competing bids sharing a person (the same record, or two records that record linkage
    takes for one person), a phone (the organizations' and their staff's), an address, a
    legal representative or an identical document."""
    from evaluation import screens

    bids = _opened_bids()
    if tender is not None:
        bids = bids[bids["tender"] == tender.pk]  # links are between competitors of one tender
    if bids.empty:
        return []
    # Bounded by the staff of opened bids, never the registry's whole roster.
    people = _people_of(bids)
    results = screens.bidder_links(bids, person_links=_same_people(people))
    results["evidence"] = [
        _describe_people(evidence, people) if flag == "shared_person" else evidence
        for flag, evidence in zip(results["flag"], results["evidence"], strict=True)
    ]
    return _screen_findings(results, _labels(set(bids["tender"])))


# From this many valid bids the price screen's flags are of low severity (see price_screen).
PRICE_SCREEN_MANY_BIDS = 6


def price_screen(tender: Tender | None = None) -> list[Finding]:
    """The collusion model over each tender's price distribution (the shipped model, when
    ``manage.py train_collusion_model`` has produced it): tenders with at least
    ``PRICE_SCREEN_MIN_BIDS`` valid bids, flagged at ``PRICE_SCREEN_MIN_PROBABILITY`` or the
    model's threshold, whichever is higher (``evaluation.screens`` says why)."""
    from evaluation import screens

    bids = _opened_bids()
    if tender is not None:
        bids = bids[bids["tender"] == tender.pk]  # the model reads one tender at a time
    if bids.empty or not screens.SHIPPED_MODEL.exists():
        return []
    model = screens.load_shipped_model()
    flagged = screens.price_screen(bids[["tender", "price", "valid", "winner"]], model)
    labels = _labels(set(flagged.index))
    findings = []
    for tender_id, row in flagged.iterrows():  # the flagged few
        probability = float(row["probability"])
        if row["n_bids"] >= PRICE_SCREEN_MANY_BIDS:
            # The model flags 16-39 % of simulated honest tenders of 6-8 bids
            # (docs/benchmarks.md): a lead to look at, not a finding to act on.
            severity = FlagSeverity.LOW
        else:
            severity = FlagSeverity.HIGH if probability >= 0.9 else FlagSeverity.MEDIUM
        findings.append(
            Finding(
                kind=FlagKind.PRICE_SCREEN,
                severity=severity,
                subject_label=labels.get(int(tender_id), str(tender_id)),
                score=round(probability, 4),
                tender_id=int(tender_id),
                evidence=integrity.canonical(
                    {
                        "probability": round(probability, 4),
                        "threshold": round(float(row["threshold"]), 4),
                        "model_threshold": round(float(model.threshold), 4),
                        "min_bids": screens.PRICE_SCREEN_MIN_BIDS,
                        "screens": {
                            key: (None if pd.isna(row[key]) else round(float(row[key]), 6))
                            for key in ("n_bids", *screens.CLASSIC_SCREENS)
                        },
                    }
                ),
            )
        )
    return findings


def assessor_screen(tender: Tender | None = None) -> list[Finding]:
    """Assessor bias: systematic deviation from the panels, affinity for an organization."""
    from evaluation import screens

    scores = _scores_frame()
    if scores.empty:
        return []
    results = pd.concat(
        [screens.assessor_deviation(scores), screens.assessor_affinity(scores)],
        ignore_index=True,
    )
    names = {
        user.pk: user.get_full_name() or user.get_username()
        for user in User.objects.filter(pk__in=set(scores["assessor"]))
    }
    findings = [
        replace(finding, subject_label=names.get(finding.assessor_id or 0, finding.subject_label))
        for finding in _screen_findings(results, {})
    ]
    if tender is None:
        return findings
    panel = set(scores.loc[scores["tender"] == tender.pk, "assessor"])
    return [finding for finding in findings if finding.assessor_id in panel]


def _collusion_screens() -> list[Screen]:
    return [
        Screen(
            FlagKind.R018_SINGLE_BID,
            red_flag_screen,
            "red flags",
            kinds=(
                FlagKind.R028_IDENTICAL_PRICES,
                FlagKind.R024_CLOSE_SECOND,
                FlagKind.R058_WINNER_FAR_BELOW,
                FlagKind.R025_FREQUENT_LOSER,
                FlagKind.R003_SHORT_PERIOD,
            ),
        ),
        Screen(FlagKind.SHARED_BIDDER_LINK, bidder_link_screen, "bidder links"),
        Screen(FlagKind.PRICE_SCREEN, price_screen, "price screens"),
        Screen(
            FlagKind.ASSESSOR_DEVIATION,
            assessor_screen,
            "assessor bias",
            kinds=(FlagKind.ASSESSOR_AFFINITY,),
        ),
    ]


SCREENS: list[Screen] = [
    Screen(FlagKind.STAFF_ON_PUBLIC_PAYROLL, staff_on_public_payroll, "staff on public payroll"),
    Screen(
        FlagKind.UNIT_KEEPS_STAFF_FOR_FUNCTION,
        unit_keeps_staff_for_function,
        "purchasing unit staffing",
    ),
    Screen(FlagKind.SUBSIDY_OVERLAP, subsidy_overlap, "subsidies"),
    Screen(FlagKind.STAFF_OVERCOMMITTED, staff_overcommitted, "FTE commitments"),
    Screen(FlagKind.DUPLICATE_PROJECT, duplicate_project, "duplicate projects"),
    Screen(FlagKind.EXCLUDED_PROVIDER, excluded_provider, "excluded providers"),
]


def _store(
    findings: list[Finding], *, kinds: Iterable[str], tender: Tender | None, run: IntegrityRun
) -> int:
    """Create or refresh the flags of one screen's findings; mark the scope's flags it no
    longer finds. Returns how many flags are new."""
    now = timezone.now()
    unique = {finding.fingerprint: finding for finding in findings}
    created = 0
    with transaction.atomic():
        existing = {
            flag.fingerprint: flag
            for flag in IntegrityFlag.objects.select_for_update().filter(
                fingerprint__in=list(unique)
            )
        }
        new_flags = []
        for fingerprint, finding in unique.items():
            digest = finding.evidence_digest
            flag = existing.get(fingerprint)
            if flag is None:
                new_flags.append(
                    IntegrityFlag(
                        kind=finding.kind,
                        severity=finding.severity,
                        fingerprint=fingerprint,
                        tender_id=finding.tender_id,
                        bid_id=finding.bid_id,
                        contract_id=finding.contract_id,
                        organization_id=finding.organization_id,
                        person_id=finding.person_id,
                        assessor_id=finding.assessor_id,
                        subject_label=finding.subject_label[:300],
                        evidence=integrity.canonical(finding.evidence),
                        evidence_digest=digest,
                        score=round(finding.score, 4),
                        first_seen_at=now,
                        last_seen_at=now,
                        last_run=run,
                    )
                )
                continue
            changed = flag.evidence_digest != digest
            before = flag.status
            if changed and flag.status in (FlagStatus.DISMISSED, FlagStatus.RESOLVED):
                fire(flag, "reopen")
                audit_record(
                    action=AuditAction.INTEGRITY_FLAG_REOPENED,
                    obj=flag,
                    state_before=before,
                    state_after=flag.status,
                    details={"kind": flag.kind, "run": run.pk},
                )
            flag.evidence = integrity.canonical(finding.evidence)
            flag.evidence_digest = digest
            flag.severity = finding.severity
            flag.score = round(finding.score, 4)
            flag.subject_label = finding.subject_label[:300]
            flag.last_seen_at = now
            flag.gone_at = None
            flag.last_run = run
            flag.save()
        # Two workers screening overlapping scopes may both find a new flag: the second
        # insert is skipped (the fingerprint is unique), never a failed run.
        IntegrityFlag.objects.bulk_create(new_flags, ignore_conflicts=True)
        created = len(new_flags)
        gone = IntegrityFlag.objects.filter(kind__in=list(kinds), gone_at__isnull=True).exclude(
            fingerprint__in=list(unique)
        )
        if tender is not None:
            gone = gone.filter(tender=tender)
        gone.update(gone_at=now)
    return created


def _progress(run: IntegrityRun, percent: int, step: str, callback: Progress | None) -> None:
    # Written outside any transaction so that another request sees it at once.
    IntegrityRun.objects.filter(pk=run.pk).update(progress=percent, step=step[:60])
    if callback is not None:
        callback(percent, step)


def run_request(
    *, actor: User | None, tender: Tender | None = None, trigger: str = RunTrigger.REQUEST
) -> IntegrityRun:
    """A queued run (the page, the API and the triggers queue one; a worker runs it)."""
    if actor is not None:
        _require(permissions.can_run_integrity_screens(actor))
    return IntegrityRun.objects.create(
        trigger=trigger, tender=tender, requested_by=actor, created_at=timezone.now()
    )


def screens_run(
    *,
    tender: Tender | None = None,
    actor: User | None = None,
    progress: Progress | None = None,
    trigger: str = RunTrigger.REQUEST,
    run: IntegrityRun | None = None,
) -> IntegrityRun:
    """Run every screen of DESIGN 5 (over ``tender`` only, or everything) and store the
    flags; ``progress(percent, step)`` is called after each screen. ``actor`` None is the
    system (a trigger or the scheduler); otherwise an official or an auditor."""
    if run is None:
        run = run_request(actor=actor, tender=tender, trigger=trigger)
    else:
        tender = run.tender
        actor = run.requested_by
    with transaction.atomic():
        run = IntegrityRun.objects.select_for_update().get(pk=run.pk)
        fire(run, "start")
        run.started_at = timezone.now()
        run.save()
    screens = [*SCREENS, *_collusion_screens()]
    counts: dict[str, int] = {}
    new = 0
    try:
        for index, screen in enumerate(screens):
            # The step is the screen's first kind: pages show its label in the reader's language.
            _progress(run, index * 100 // len(screens), str(screen.kind), progress)
            findings = screen.run(tender)
            kinds = screen.all_kinds | {finding.kind for finding in findings}
            new += _store(findings, kinds=kinds, tender=tender, run=run)
            for finding_kind, number in Counter(f.kind for f in findings).items():
                counts[finding_kind] = counts.get(finding_kind, 0) + number
            for kind in screen.all_kinds:
                counts.setdefault(kind, 0)
    except Exception as exc:
        logger.exception("integrity screens run %s failed", run.pk)
        with transaction.atomic():
            run = IntegrityRun.objects.select_for_update().get(pk=run.pk)
            fire(run, "fail")
            run.error = f"{type(exc).__name__}: {exc}"[:2000]
            run.finished_at = timezone.now()
            run.save()
        raise
    with transaction.atomic():
        run = IntegrityRun.objects.select_for_update().get(pk=run.pk)
        fire(run, "finish")
        run.progress = 100
        run.step = ""
        run.counts = dict(sorted(counts.items()))
        run.new_flags = new
        run.finished_at = timezone.now()
        run.save()
        audit_record(
            action=AuditAction.INTEGRITY_SCREENS_RUN,
            actor=actor,
            obj=run,
            state_before=RunStatus.RUNNING,
            state_after=run.status,
            details={
                "trigger": run.trigger,
                "tender": tender.pk if tender is not None else None,
                "counts": run.counts,
                "new_flags": new,
            },
        )
    if progress is not None:
        progress(100, "")
    return run


# --- Review ---------------------------------------------------------------------------------------


def _lock_flag(flag: IntegrityFlag) -> IntegrityFlag:
    return IntegrityFlag.objects.select_for_update().get(pk=flag.pk)


def _note(value: str, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: [message]})
    if len(text) > NOTE_MAX:
        raise ValidationError({field: [_("At most %(max)s characters.") % {"max": NOTE_MAX}]})
    return text


def _notify(flag: IntegrityFlag, template: str) -> None:
    """The official who drafted the flagged tender learns what was decided about it."""
    tender = flag.tender
    recipient = tender.created_by if tender is not None else None
    if recipient is None or not recipient.is_active or not recipient.email:
        return
    email_user(
        to=recipient.email,
        language=recipient.language,
        subject_template=f"evaluation/integrity/email/{template}_subject.txt",
        body_template=f"evaluation/integrity/email/{template}.txt",
        context={"user": recipient, "flag": flag, "office": settings.STREET_OFFICE["name"]},
    )


def flag_confirm(*, flag: IntegrityFlag, actor: User, note: str = "") -> IntegrityFlag:
    """A reviewer (an official or an auditor) finds the flag real. Confirmed double funding
    blocks the award or the payment it concerns until it is resolved."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [_("At most %(max)s characters.") % {"max": NOTE_MAX}]})
    with transaction.atomic():
        flag = _lock_flag(flag)
        _require(permissions.is_integrity_reviewer(actor))
        before = flag.status
        fire(flag, "confirm")
        flag.reviewed_by = actor
        flag.reviewed_at = timezone.now()
        flag.review_note = note
        flag.save()
        audit_record(
            action=AuditAction.INTEGRITY_FLAG_CONFIRMED,
            actor=actor,
            obj=flag,
            state_before=before,
            state_after=flag.status,
            details={"kind": flag.kind, "note": note, "blocks": flag.blocks},
        )
        _notify(flag, "flag_confirmed")
    return flag


def flag_dismiss(*, flag: IntegrityFlag, actor: User, reason: str) -> IntegrityFlag:
    """A reviewer finds the flag a false alarm and says why (DESIGN 3: reason required)."""
    reason = _note(reason, "reason", _("Say why the flag is dismissed."))
    with transaction.atomic():
        flag = _lock_flag(flag)
        _require(permissions.is_integrity_reviewer(actor))
        before = flag.status
        fire(flag, "dismiss")
        flag.reviewed_by = actor
        flag.reviewed_at = timezone.now()
        flag.review_note = reason
        flag.save()
        audit_record(
            action=AuditAction.INTEGRITY_FLAG_DISMISSED,
            actor=actor,
            obj=flag,
            state_before=before,
            state_after=flag.status,
            details={"kind": flag.kind, "reason": reason},
        )
    return flag


def flag_resolve(*, flag: IntegrityFlag, actor: User, resolution: str) -> IntegrityFlag:
    """A confirmed flag is put right (the person left the post, the subsidy was stopped, the
    bid was disqualified...), said in the resolution; what it blocked is free again."""
    resolution = _note(resolution, "resolution", _("Say how the problem was resolved."))
    with transaction.atomic():
        flag = _lock_flag(flag)
        _require(permissions.is_integrity_reviewer(actor))
        before = flag.status
        fire(flag, "resolve")
        flag.resolved_by = actor
        flag.resolved_at = timezone.now()
        flag.resolution = resolution
        flag.save()
        audit_record(
            action=AuditAction.INTEGRITY_FLAG_RESOLVED,
            actor=actor,
            obj=flag,
            state_before=before,
            state_after=flag.status,
            details={"kind": flag.kind, "resolution": resolution},
        )
        _notify(flag, "flag_resolved")
    return flag


def screens_request(*, actor: User, tender: Tender | None = None) -> IntegrityRun:
    """An official or auditor asks for a run (the page, the API): it is queued and a worker
    runs it after the commit; its progress is on the run's page."""
    from evaluation.tasks_integrity import enqueue

    _require(permissions.can_run_integrity_screens(actor))
    with transaction.atomic():
        run = run_request(actor=actor, tender=tender, trigger=RunTrigger.REQUEST)
        enqueue(run)
    return run
