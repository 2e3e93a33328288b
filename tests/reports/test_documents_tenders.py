"""The procurement's printable documents: tender notice, opening record, award notice and
contract.

The state is built once for the module with the real services: a tender opened, ranked by
its panel, awarded on 2026-09-30 and contracted (``tests.contract_support``), then a second
tender published on 2026-10-16 with an answered question and an amendment (never opened),
and an official's draft. Each test rolls back to it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from evaluation.models import MemberStatus, PanelMember
from marketplace.models import Role, User
from orgs_registry.identifiers import make_id_number
from orgs_registry.models import Organization, Person, ServiceCategory
from reports import documents
from reports.documents_contracts import amount_in_capitals
from tenders import services
from tenders.models import (
    BidStaff,
    Contract,
    ContractTeamMember,
    OpeningConfirmation,
    Question,
    Tender,
)
from tests import contract_support
from tests.conftest import Clock, building, module_database, persona
from tests.tenders import conftest as tender_fixtures
from tests.tenders.conftest import make_bidder, publish_tender, tender_data
from tests.tenders.test_award import AWARD_DAY

clock = tender_fixtures.clock

QA_TITLE = "解放碑街道社区议事协商能力提升项目"
QUESTION = "服务范围是否包含楼栋自治小组的培训？"
ANSWER = "包含，每个社区每季度不少于一次。"
AMENDMENT = "增加楼栋自治服务指标，投标截止时间相应顺延。"


@dataclass(frozen=True)
class Built:
    contract: int
    awarded: int
    published: int
    draft: int
    asker: int


def _published_with_questions(clock: Clock) -> Tender:
    """A tender published now, with one answered question and one amendment."""
    official = persona("official", Role.OFFICIAL)
    category = ServiceCategory.objects.get(code="community_governance")
    tender = publish_tender(
        official=official,
        approver=persona("approver", Role.APPROVER),
        category=category,
        title=QA_TITLE,
        description="协助各社区完善议事规则，培育居民议事骨干。",
        method="competitive_consultation",
        budget=Decimal("260000.00"),
        criteria=[
            {"code": "price", "name": "价格", "kind": "price", "points": "20"},
            {"code": "plan", "name": "服务方案", "kind": "subjective", "points": "80"},
        ],
    )
    asker = make_bidder("议事协商服务中心")
    question = services.question_ask(tender=tender, actor=asker.admin, text=QUESTION)
    services.question_answer(question=question, actor=official, answer=ANSWER)
    services.tender_amend(
        tender=tender,
        actor=official,
        summary=AMENDMENT,
        changes={"eligibility_notes": "须具备社区治理服务经验。"},
        affects_preparation=True,
    )
    tender.asker_id = asker.admin.pk  # type: ignore[attr-defined]
    return tender


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Built]:
    with (
        module_database(django_db_blocker),
        building(django_db_blocker, start=AWARD_DAY, media=tmp_path_factory.mktemp("m")) as clock,
    ):
        contract = contract_support.make_signed_contract(clock)
        published = _published_with_questions(clock)
        draft = services.tender_create(
            actor=persona("official", Role.OFFICIAL),
            **tender_data(
                ServiceCategory.objects.get(code="elderly_care"),
                clock.current,
                title="草稿中的助餐服务项目",
            ),
        )
        yield Built(
            contract=contract.pk,
            awarded=contract.tender_id,
            published=published.pk,
            draft=draft.pk,
            asker=published.asker_id,  # type: ignore[attr-defined]
        )


@pytest.fixture
def built(_built, db, clock) -> Built:
    clock.set(contract_support.DRAFT_DAY + timedelta(days=1))
    return _built


def text_of(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def render(kind: str, pk: int, *, user=None, language: str = "zh-hans") -> str:
    document = documents.document_for(kind)
    obj = document.for_user(user, pk) if user is not None else document.by_id(pk)
    return text_of(documents.render_document(kind, obj, user=user, language=language))


def download(client, kind: str, pk: int, language: str = "zh-hans"):
    return client.get(reverse("reports:document_pdf", args=[kind, pk]), {"lang": language})


def id_numbers(built: Built) -> list[str]:
    """Every ID number of the people on the awarded tender's bids and the contract's team."""
    people = Person.objects.filter(bid_plans__bid__tender_id=built.awarded).values_list(
        "id_number", flat=True
    )
    numbers = [number for number in people if number]
    assert numbers  # the fixture has people with ID numbers, so the check below means something
    return numbers


# --- Each document in Chinese, with the English version ------------------------------------


def test_the_tender_notice_prints_the_project_its_scheme_and_the_answered_questions(
    built, outsider, clock
):
    tender = Tender.objects.get(pk=built.published)
    clock.set(tender.published_at + timedelta(days=1))
    waiting = "尚未答复的问题：是否允许联合体投标？"
    services.question_ask(tender=tender, actor=User.objects.get(pk=built.asker), text=waiting)
    text = render("tender_notice", tender.pk, user=outsider)
    assert waiting not in text  # an unanswered question is the asker's and the office's
    assert QA_TITLE in text
    assert tender.reference in text
    assert "社区治理" in text  # the category
    assert "服务方案" in text  # a criterion
    assert "260,000.00" in text or "260000.00" in text
    assert QUESTION in text
    assert ANSWER in text
    assert AMENDMENT in text
    # Who asked is never printed.
    asker = Organization.objects.get(members__pk=built.asker)
    assert asker.name not in text


def test_the_opening_record_prints_every_opened_bid_with_its_receipt(built, outsider):
    tender = Tender.objects.get(pk=built.awarded)
    text = render("opening_record", tender.pk, user=outsider)
    assert tender.title in text
    assert f"{tender.reference}-KB" in text
    for bid in tender.bids.select_related("organization"):
        assert bid.organization.name in text
        receipt = bid.receipts.order_by("-received_at").first()
        assert receipt.sha256[:32] in text
        assert receipt.sha256[32:] in text
    confirmations = OpeningConfirmation.objects.filter(tender=tender).select_related("official")
    assert confirmations.count() == 2
    for confirmation in confirmations:  # the two officials who opened it, and when
        assert confirmation.official.get_full_name() in text
        assert timezone.localtime(confirmation.confirmed_at).strftime("%Y-%m-%d %H:%M:%S") in text
    assert "Second_Official" in text
    assert "430,000.00" in text or "430000.00" in text


def test_the_award_notice_prints_the_winner_the_ranking_and_the_panel(built, outsider):
    tender = Tender.objects.get(pk=built.awarded)
    contract = Contract.objects.select_related("organization").get(pk=built.contract)
    text = render("award_notice", tender.pk, user=outsider)
    assert tender.title in text
    assert f"{tender.reference}-ZB" in text
    assert contract.organization.name in text
    assert contract.organization.uscc in text
    for bid in tender.bids.select_related("organization"):
        assert bid.organization.name in text  # every ranked bidder
    assert "87.88" in text
    assert "73.45" in text
    members = PanelMember.objects.filter(panel__tender=tender).select_related("user")
    for member in members:
        name = member.user.get_full_name()
        if member.status == MemberStatus.REPLACED:
            assert name not in text
        else:
            assert name in text
    assert "2026-10-15" in text  # challenges until


def test_the_contract_prints_the_parties_price_milestones_and_signatures(built):
    contract = Contract.objects.select_related("organization", "tender").get(pk=built.contract)
    text = render("contract", contract.pk, user=persona("official", Role.OFFICIAL))
    assert contract.reference in text
    assert contract.title in text
    assert contract.organization.name in text
    assert "人民币肆拾捌万元整" in text  # 480000.00 in capitals
    assert "144,000.00" in text or "144000.00" in text  # the first milestone
    assert "2026-10-16" in text  # both signed on the day it was drawn up


@pytest.mark.parametrize(
    ("kind", "which", "heading"),
    [
        ("tender_notice", "published", "Competitive consultation notice"),
        ("opening_record", "awarded", "Bid opening record"),
        ("award_notice", "awarded", "Award notice"),
        ("contract", "contract", "Contract for the government purchase of services"),
    ],
)
def test_the_english_version_has_english_labels_and_the_chinese_names(built, kind, which, heading):
    pk = getattr(built, which)
    text = render(kind, pk, language="en")
    assert heading in text
    assert "Jiefangbei Sub-district Office" in text
    assert "Reference" in text or "Document number" in text
    tender = Tender.objects.get(pk=built.awarded if kind != "tender_notice" else pk)
    assert tender.title in text


# --- Who may read which, as on the pages -----------------------------------------------------


def test_the_opening_record_does_not_exist_before_the_opening_for_anybody(
    built, client, client_for, clock
):
    tender = Tender.objects.get(pk=built.published)
    readers = [
        client,
        client_for(persona("official", Role.OFFICIAL)),
        client_for(persona("approver", Role.APPROVER)),
        client_for(persona("auditor", Role.AUDITOR)),
    ]
    for moment in (tender.bid_deadline - timedelta(hours=1), tender.bid_deadline + timedelta(1)):
        clock.set(moment)
        for reader in readers:
            assert download(reader, "opening_record", tender.pk).status_code == 404
    with pytest.raises(LookupError, match="not opened"):
        documents.document_for("opening_record").by_id(tender.pk)


def test_a_draft_has_no_tender_notice_and_its_page_is_the_street_office_s(
    built, client, client_for, outsider
):
    assert download(client, "tender_notice", built.draft).status_code == 404
    outsider = client_for(outsider)
    assert download(outsider, "tender_notice", built.draft).status_code == 404
    # The official sees the draft's page, but there is no notice before publication.
    official = client_for(persona("official", Role.OFFICIAL))
    assert official.get(reverse("tenders:detail", args=[built.draft])).status_code == 200
    assert download(official, "tender_notice", built.draft).status_code == 404
    with pytest.raises(LookupError, match="not published"):
        documents.document_for("tender_notice").by_id(built.draft)


def test_there_is_no_award_notice_before_the_award(built, client, client_for):
    assert download(client, "award_notice", built.published).status_code == 404
    official = client_for(persona("official", Role.OFFICIAL))
    assert download(official, "award_notice", built.published).status_code == 404


def test_the_published_documents_download_for_the_public(built, client):
    for kind, pk in (
        ("tender_notice", built.published),
        ("tender_notice", built.awarded),
        ("opening_record", built.awarded),
        ("award_notice", built.awarded),
    ):
        response = download(client, kind, pk, "en")
        assert response.status_code == 200, kind
        assert response["Content-Disposition"].startswith("attachment")


def test_the_contract_team_is_masked_for_the_public_and_whole_for_the_parties(
    built, client, client_for
):
    contract = Contract.objects.get(pk=built.contract)
    names = list(
        ContractTeamMember.objects.filter(contract=contract).values_list("person__name", flat=True)
    )
    assert names
    signer = contract.purchaser_signed_by.get_full_name()
    response = download(client, "contract", contract.pk)
    assert response.status_code == 200
    public = text_of(b"".join(response.streaming_content))
    command = render("contract", contract.pk)  # the command reads it as the public does
    for text in (public, command):
        for name in names:
            assert name not in text
            assert name[0] + "*" * (len(name) - 1) in text
        assert signer not in text  # nor who signed for the street office
    for reader in (persona("official", Role.OFFICIAL), persona("auditor", Role.AUDITOR)):
        text = render("contract", contract.pk, user=reader)
        for name in names:
            assert name in text
        assert signer in text


def test_no_document_prints_an_id_number(built, client_for):
    numbers = id_numbers(built)
    official = persona("official", Role.OFFICIAL)
    texts = [
        render("tender_notice", built.awarded, user=official),
        render("opening_record", built.awarded, user=official),
        render("award_notice", built.awarded, user=official),
        render("contract", built.contract, user=official),
        render("contract", built.contract, user=persona("auditor", Role.AUDITOR)),
    ]
    for text in texts:
        for number in numbers:
            assert number not in text
            assert number[:6] + "*" not in text  # nor a masked one: the documents need none


# --- The command ------------------------------------------------------------------------------


def test_the_command_prints_the_latest_object_that_has_the_document(built, tmp_path):
    newer = Tender.objects.get(pk=built.published)
    awarded = Tender.objects.get(pk=built.awarded)
    expected = {
        "tender_notice": newer.reference,  # the latest published
        "opening_record": f"{awarded.reference}-KB",  # the newer one is not opened
        "award_notice": f"{awarded.reference}-ZB",
        "contract": Contract.objects.get(pk=built.contract).reference,
    }
    for kind, number in expected.items():
        out = tmp_path / f"{kind}.pdf"
        call_command("render_report", kind, "--out", str(out))
        assert number in text_of(out.read_bytes()), kind


def test_the_command_names_what_is_missing(built, tmp_path):
    out = str(tmp_path / "x.pdf")
    with pytest.raises(CommandError, match=r"award_notice \d+: no award is in force"):
        call_command("render_report", "award_notice", str(built.published), "--out", out)
    with pytest.raises(CommandError, match="contract 999999: no such contract"):
        call_command("render_report", "contract", "999999", "--out", out)
    with pytest.raises(CommandError, match="no such tender"):
        call_command("render_report", "tender_notice", "999999", "--out", out)


def test_for_user_is_404_for_a_missing_object(built):
    for kind in ("tender_notice", "opening_record", "award_notice", "contract"):
        with pytest.raises(Http404):
            documents.document_for(kind).for_user(None, 999999)


# --- The pages link the documents ---------------------------------------------------------


def test_the_pages_link_the_documents_they_show(built, client):
    def links(url: str) -> str:
        return client.get(url).content.decode()

    awarded = links(reverse("tenders:detail", args=[built.awarded]))
    for kind in ("tender_notice", "opening_record", "award_notice"):
        url = reverse("reports:document_pdf", args=[kind, built.awarded])
        assert f"{url}?lang=zh-hans" in awarded
        assert f"{url}?lang=en" in awarded
    published = links(reverse("tenders:detail", args=[built.published]))
    assert reverse("reports:document_pdf", args=["tender_notice", built.published]) in published
    for kind in ("opening_record", "award_notice"):
        assert reverse("reports:document_pdf", args=[kind, built.published]) not in published
    contract = links(reverse("tenders:contract_detail", args=[built.contract]))
    assert reverse("reports:document_pdf", args=["contract", built.contract]) in contract


# --- Queries ------------------------------------------------------------------------------------


def queries_of(kind: str, pk: int, user) -> int:
    document = documents.document_for(kind)
    obj = document.by_id(pk)
    with CaptureQueriesContext(connection) as captured:
        document.context(obj, user)
    return len(captured)


@pytest.mark.parametrize(
    ("kind", "which", "most"),
    [
        ("tender_notice", "published", 3),
        ("opening_record", "awarded", 6),
        ("award_notice", "awarded", 6),
        ("contract", "contract", 2),
    ],
)
def test_building_a_document_takes_a_bounded_number_of_queries(built, kind, which, most):
    assert queries_of(kind, getattr(built, which), persona("official", Role.OFFICIAL)) <= most


def test_more_questions_amendments_and_team_members_take_no_more_queries(built, clock):
    official = persona("official", Role.OFFICIAL)
    tender = Tender.objects.get(pk=built.published)
    contract = Contract.objects.get(pk=built.contract)
    before = (
        queries_of("tender_notice", tender.pk, official),
        queries_of("contract", contract.pk, official),
    )
    clock.set(tender.published_at + timedelta(days=1))
    asker = User.objects.get(pk=built.asker)
    for i in range(3):
        question = services.question_ask(tender=tender, actor=asker, text=f"第{i}个问题")
        services.question_answer(question=question, actor=official, answer=f"第{i}个答复")
        services.tender_amend(
            tender=Tender.objects.get(pk=tender.pk),
            actor=official,
            summary=f"第{i}次更正",
            changes={"eligibility_notes": f"更正{i}"},
        )
    # People of the losing bids join the team (rows written directly: the count, not the
    # team-change service, is under test here).
    team = ContractTeamMember.objects.filter(contract=contract)
    size = team.count()
    others = BidStaff.objects.filter(bid__tender_id=built.awarded).exclude(
        bid__organization_id=contract.organization_id
    )
    for entry in others.select_related("person")[:3]:
        ContractTeamMember.objects.create(
            contract=contract,
            person=entry.person,
            role=entry.role,
            fte=Decimal("0.20"),
            joined_on=date(2027, 1, 1),
        )
    assert team.count() == size + 3
    assert Question.objects.filter(tender=tender).count() == 4
    after = (
        queries_of("tender_notice", tender.pk, official),
        queries_of("contract", contract.pk, official),
    )
    assert after == before


# --- Pure helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("480000.00", "人民币肆拾捌万元整"),
        ("1005.50", "人民币壹仟零伍元伍角"),
        ("10.05", "人民币壹拾元零伍分"),
        ("0.05", "人民币伍分"),
        ("0", "人民币零元整"),
        ("100000005", "人民币壹亿零伍元整"),
        ("10000500", "人民币壹仟万零伍佰元整"),
        ("1234567.89", "人民币壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
    ],
)
def test_amounts_are_written_in_capitals(amount, capitals):
    assert amount_in_capitals(Decimal(amount)) == capitals


def test_a_new_team_person_id_is_never_read(built):
    """The contract document reads only names: a team member whose ID number is made up
    here would show if the number were read."""
    contract = Contract.objects.get(pk=built.contract)
    number = make_id_number(region="500103", born=date(1975, 5, 5), sequence=777, male=True)
    member = ContractTeamMember.objects.filter(contract=contract).select_related("person")[0]
    Person.objects.filter(pk=member.person_id).update(id_number=number)
    text = render("contract", contract.pk, user=persona("auditor", Role.AUDITOR))
    assert member.person.name in text
    assert number not in text
    assert number[-4:] not in text
