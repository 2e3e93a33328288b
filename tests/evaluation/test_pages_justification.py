"""The price justification page (87号令 Art. 60): the bidder's administrator submits the
written justification with a document, the chair decides, the office and auditors read;
the document is served as a download only; the bidder's dashboard shows the request.

The module builds once (each test rolls back to it) the pool of twelve experts and the
opened tender with an abnormally low bid whose panel is formed: the justification is
requested.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from evaluation.models import JustificationStatus, Panel, PriceJustification
from marketplace.models import AuditAction, AuditEvent, Role, User
from tests.conftest import building, module_database, persona
from tests.evaluation.conftest import active_members, declare_all, form_panel
from tests.evaluation.test_pages_support import (
    BUILT_AT,
    Evaluated,
    Shared,
    build_opened,
    build_personas,
    build_pool,
    chinese_outside_data,
    english,
    text_of,
)

LOW_PRICES = ["480000", "450000", "470000", "300000"]
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
TEXT = "人员由志愿者补充，场地由社区免费提供。"
NOTE = "成本构成合理，予以接受。"


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module (each test rolls back to it): the pool, and the opened
    tender whose fourth bid (300000) is below 80% of the others' mean, with its panel."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=BUILT_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        shared = Shared(pool=build_pool())
        low = build_opened(clock, prices=LOW_PRICES)
        shared.opened["low"] = low
        shared.panels["low"] = form_panel(low.tender, persona("official", Role.OFFICIAL))
        yield shared.done(clock)


@pytest.fixture
def pool(_built, db) -> list[User]:
    """The shared pool, re-read for this test."""
    return _built.fresh_pool()


@pytest.fixture
def low(_built, db, clock) -> Evaluated:
    """The opened tender with the low bid, re-read for this test; the clock where the
    build left it."""
    clock.set(_built.built_until)
    return _built.evaluated("low")


@pytest.fixture
def requested(low) -> tuple[Panel, PriceJustification]:
    """The panel is formed: the fourth bidder is asked to justify its price."""
    assert low.panel is not None
    return low.panel, PriceJustification.objects.get()


@pytest.fixture
def cheap(low):
    return low.bidders[3]


def url(justification, name: str = "justification") -> str:
    return reverse(f"evaluation:{name}", args=[justification.pk])


def chair_of(panel):
    return next(m.user for m in active_members(panel) if m.user_id == panel.chair_id)


def submit_data(**extra):
    return {"text": TEXT, **extra}


# --- Reading -------------------------------------------------------------------------------------


def test_the_bidders_administrator_is_offered_the_form(client_for, requested, cheap):
    _panel, justification = requested
    html = text_of(english(client_for(cheap.admin)).get(url(justification)))
    assert "Abnormally low price" in html
    assert "300,000.00" in html
    assert 'enctype="multipart/form-data"' in html
    assert 'name="text"' in html
    assert 'name="file"' in html
    assert "csrfmiddlewaretoken" in html


def test_a_member_of_the_bidder_reads_it_without_the_form(client_for, requested, cheap):
    _panel, justification = requested
    html = text_of(english(client_for(cheap.member)).get(url(justification)))
    assert "Abnormally low price" in html
    assert 'name="text"' not in html


@pytest.mark.parametrize("persona", ["official", "auditor"])
def test_the_office_reads_it_read_only(client_for, requested, request, persona):
    _panel, justification = requested
    html = text_of(client_for(request.getfixturevalue(persona)).get(url(justification)))
    assert 'name="text"' not in html
    assert 'name="decision"' not in html


def test_others_find_no_justification(client_for, requested, low, org_admin, assessor, outsider):
    panel, justification = requested
    undeclared = active_members(panel)[0].user
    for user in (low.bidders[0].admin, org_admin, assessor, outsider, undeclared):
        assert client_for(user).get(url(justification)).status_code == 404, user
        response = client_for(user).post(url(justification, "justification_submit"), submit_data())
        assert response.status_code == 404
    justification.refresh_from_db()
    assert justification.status == JustificationStatus.REQUESTED


def test_the_panel_page_lists_the_justification(client_for, requested, low, official):
    _panel, justification = requested
    html = text_of(client_for(official).get(reverse("evaluation:panel", args=[low.tender.pk])))
    assert url(justification) in html


def test_the_bidders_dashboard_and_tender_page_link_to_the_request(
    client_for, requested, cheap, low
):
    _panel, justification = requested
    client = english(client_for(cheap.admin))
    dashboard = text_of(client.get(reverse("dashboard")))
    assert "Price justifications requested" in dashboard
    assert url(justification) in dashboard
    detail = text_of(client.get(reverse("tenders:detail", args=[low.tender.pk])))
    assert url(justification) in detail
    other = text_of(client_for(low.bidders[0].admin).get(reverse("dashboard")))
    assert url(justification) not in other


# --- Submitting ----------------------------------------------------------------------------------


def test_the_administrator_submits_the_justification_with_a_document(client_for, requested, cheap):
    _panel, justification = requested
    client = english(client_for(cheap.admin))
    response = client.post(
        url(justification, "justification_submit"),
        submit_data(file=SimpleUploadedFile("成本测算.pdf", PDF)),
    )
    assert response.status_code == 302
    assert response.url == url(justification)
    justification.refresh_from_db()
    assert justification.status == JustificationStatus.SUBMITTED
    assert justification.text == TEXT
    assert justification.document_name == "成本测算.pdf"
    assert AuditEvent.objects.filter(action=AuditAction.LOW_PRICE_JUSTIFIED).count() == 1
    html = text_of(client.get(url(justification)))
    assert TEXT in html
    assert url(justification, "justification_document") in html
    assert 'name="text"' not in html


def test_the_document_is_a_download_for_its_readers_only(
    client_for, requested, cheap, official, low
):
    _panel, justification = requested
    client_for(cheap.admin).post(
        url(justification, "justification_submit"),
        submit_data(file=SimpleUploadedFile("成本测算.pdf", PDF)),
    )
    document = url(justification, "justification_document")
    for user in (cheap.member, official):
        response = client_for(user).get(document)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == PDF
    assert client_for(low.bidders[0].admin).get(document).status_code == 404


def test_a_justification_without_a_document_has_no_download(client_for, requested, cheap):
    _panel, justification = requested
    client_for(cheap.admin).post(url(justification, "justification_submit"), submit_data())
    response = client_for(cheap.admin).get(url(justification, "justification_document"))
    assert response.status_code == 404


def test_an_empty_justification_is_refused_on_the_field(client_for, requested, cheap):
    _panel, justification = requested
    response = english(client_for(cheap.admin)).post(
        url(justification, "justification_submit"), {"text": "  "}
    )
    html = text_of(response)
    assert "Explain in writing how the service can be delivered at this price." in html
    assert 'id="id_text_error"' in html
    justification.refresh_from_db()
    assert justification.status == JustificationStatus.REQUESTED


def test_a_refused_file_is_shown_on_the_field_and_nothing_is_saved(client_for, requested, cheap):
    _panel, justification = requested
    response = english(client_for(cheap.admin)).post(
        url(justification, "justification_submit"),
        submit_data(file=SimpleUploadedFile("说明.pdf", EXE)),
    )
    html = text_of(response)
    assert "The file is not an accepted document" in html
    assert 'id="id_file_error"' in html
    justification.refresh_from_db()
    assert justification.status == JustificationStatus.REQUESTED
    assert not justification.document
    assert AuditEvent.objects.filter(action=AuditAction.LOW_PRICE_JUSTIFIED).count() == 0


def test_a_late_justification_is_refused(client_for, requested, cheap, clock):
    _panel, justification = requested
    clock.set(justification.due_at + timedelta(minutes=1))
    response = english(client_for(cheap.admin)).post(
        url(justification, "justification_submit"), submit_data()
    )
    assert "the panel decides without it" in text_of(response)
    justification.refresh_from_db()
    assert justification.status == JustificationStatus.REQUESTED


def test_a_member_who_is_not_the_administrator_may_not_submit(client_for, requested, cheap):
    _panel, justification = requested
    response = client_for(cheap.member).post(
        url(justification, "justification_submit"), submit_data()
    )
    assert response.status_code == 403
    justification.refresh_from_db()
    assert justification.status == JustificationStatus.REQUESTED


def test_submitting_needs_the_csrf_token(requested, cheap):
    _panel, justification = requested
    client = Client(enforce_csrf_checks=True)
    client.force_login(cheap.admin)
    assert client.post(url(justification, "justification_submit"), submit_data()).status_code == 403
    justification.refresh_from_db()
    assert justification.status == JustificationStatus.REQUESTED


# --- The chair's decision ------------------------------------------------------------------------


@pytest.fixture
def submitted(requested, cheap, client_for):
    panel, justification = requested
    client_for(cheap.admin).post(url(justification, "justification_submit"), submit_data())
    declare_all(panel)
    justification.refresh_from_db()
    return panel, justification


def test_the_chair_is_offered_the_decision(client_for, submitted):
    panel, justification = submitted
    html = text_of(english(client_for(chair_of(panel))).get(url(justification)))
    assert 'name="decision"' in html
    assert TEXT in html
    other = next(m.user for m in active_members(panel) if m.user_id != panel.chair_id)
    html = text_of(client_for(other).get(url(justification)))
    assert TEXT in html
    assert 'name="decision"' not in html


def test_the_chair_accepts_with_reasons(client_for, submitted):
    panel, justification = submitted
    response = client_for(chair_of(panel)).post(
        url(justification, "justification_decide"), {"decision": "accept", "note": NOTE}
    )
    assert response.status_code == 302
    justification.refresh_from_db()
    assert justification.status == JustificationStatus.ACCEPTED
    assert justification.decision_note == NOTE
    assert AuditEvent.objects.filter(action=AuditAction.LOW_PRICE_DECIDED).count() == 1


def test_a_decision_without_reasons_is_refused_on_the_field(client_for, submitted):
    panel, justification = submitted
    response = english(client_for(chair_of(panel))).post(
        url(justification, "justification_decide"), {"decision": "reject", "note": ""}
    )
    html = text_of(response)
    assert "Give the panel&#x27;s reasons for the decision." in html
    assert 'id="id_note_error"' in html
    justification.refresh_from_db()
    assert justification.status == JustificationStatus.SUBMITTED


def test_only_the_chair_decides(client_for, submitted, official, cheap):
    panel, justification = submitted
    other = next(m.user for m in active_members(panel) if m.user_id != panel.chair_id)
    data = {"decision": "accept", "note": NOTE}
    for user in (other, official):
        assert (
            client_for(user).post(url(justification, "justification_decide"), data).status_code
            == 403
        )
    assert (
        client_for(cheap.admin).post(url(justification, "justification_decide"), data).status_code
        == 403
    )
    justification.refresh_from_db()
    assert justification.status == JustificationStatus.SUBMITTED


# --- English -------------------------------------------------------------------------------------


def test_the_justification_page_in_english_has_no_chinese_outside_the_data(
    client_for, submitted, cheap
):
    panel, justification = submitted
    for user in (cheap.admin, chair_of(panel)):
        html = text_of(english(client_for(user)).get(url(justification)))
        assert chinese_outside_data(html) == []
