"""Pages of the integrity screens: the queue and its filters, a flag's evidence and review
forms, a run's progress, the report; every other role is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from evaluation.models import FlagStatus, IntegrityRun, RunStatus
from marketplace.models import AuditAction, AuditEvent
from orgs_registry.identifiers import mask_id_number
from orgs_registry.models import PostFunding, PostType
from tests.conftest import building, module_database
from tests.evaluation.integrity_light import Light, build_light
from tests.tenders.test_award import RANKED_AT

QUEUE = reverse("evaluation:integrity_queue")
REPORT = reverse("evaluation:integrity_report")


@pytest.fixture(scope="module")
def _light_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Light]:
    with (
        module_database(django_db_blocker),
        building(django_db_blocker, start=RANKED_AT, media=tmp_path_factory.mktemp("media")),
    ):
        yield build_light(tmp_path_factory.mktemp("roster"))


@pytest.fixture
def light(_light_once, db) -> Light:
    return _light_once


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def flag_url(light: Light, name: str = "integrity_flag") -> str:
    return reverse(f"evaluation:{name}", args=[light.flag(light.elderly).pk])


def test_the_queue_lists_the_flags_with_filters_and_counts(light, client_for, official):
    html = english(client_for(official)).get(QUEUE).content.decode()
    assert "Purchasing unit keeps staff for the function" in html
    assert light.elderly.reference in html
    assert light.youth.reference in html
    filtered = english(client_for(official)).get(QUEUE, {"tender": light.youth.pk})
    assert (
        light.elderly.reference
        not in filtered.content.decode().split("The queue")[1].split("Flags per kind")[0]
    )


def test_the_queue_takes_a_constant_number_of_queries(
    light, client_for, auditor, django_assert_max_num_queries
):
    client = client_for(auditor)
    with django_assert_max_num_queries(20):
        assert client.get(QUEUE).status_code == 200


def test_a_flag_shows_its_evidence_masked_for_officials_and_whole_for_auditors(
    light, client_for, official, auditor
):
    html = client_for(official).get(flag_url(light)).content.decode()
    assert mask_id_number(light.id_number) in html
    assert light.id_number not in html
    assert light.id_number in client_for(auditor).get(flag_url(light)).content.decode()


def test_the_roster_post_is_described_by_its_labels_not_its_codes():
    page = Template(
        "{% load integrity_tags %}{{ post.post_type|post_type_label }} · "
        "{{ post.funding_type|post_funding_label }} · {{ odd|post_type_label }}"
    )
    context = Context({"post": {"post_type": "other_funded", "funding_type": "full"}, "odd": "x"})
    with translation.override("en"):
        html = page.render(context)
        assert html == escape(f"{PostType.OTHER_FUNDED.label} · {PostFunding.FULL.label} · x")
    assert "other_funded" not in html


@pytest.mark.parametrize(
    "who", ["org_admin", "org_member", "assessor", "registry_admin", "outsider"]
)
def test_every_other_role_is_refused(request, light, client_for, who):
    client = client_for(request.getfixturevalue(who))
    assert client.get(QUEUE).status_code == 403
    assert client.get(REPORT).status_code == 403
    assert client.get(flag_url(light)).status_code == 404
    assert client.post(flag_url(light, "integrity_flag_confirm")).status_code == 404
    assert client.post(reverse("evaluation:integrity_run_start")).status_code == 403
    run = IntegrityRun.objects.order_by("pk").first()
    assert client.get(reverse("evaluation:integrity_run", args=[run.pk])).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(light, client):
    assert client.get(QUEUE).status_code == 302
    assert client.get(flag_url(light)).status_code == 302


def test_confirming_on_the_page(light, client_for, official):
    response = client_for(official).post(flag_url(light, "integrity_flag_confirm"), {"note": ""})
    assert response.status_code == 302
    assert light.flag(light.elderly).status == FlagStatus.CONFIRMED
    assert AuditEvent.objects.filter(action=AuditAction.INTEGRITY_FLAG_CONFIRMED).count() == 1
    html = client_for(official).get(flag_url(light)).content.decode()
    assert "integrity_flag_resolve" not in html
    assert reverse("evaluation:integrity_flag_resolve", args=[light.flag(light.elderly).pk]) in html


def test_a_dismissal_without_a_reason_shows_the_error_and_saves_nothing(light, client_for, auditor):
    response = english(client_for(auditor)).post(
        flag_url(light, "integrity_flag_dismiss"), {"reason": ""}
    )
    assert response.status_code == 400
    assert "Say why the flag is dismissed." in response.content.decode()
    assert light.flag(light.elderly).status == FlagStatus.OPEN
    response = client_for(auditor).post(
        flag_url(light, "integrity_flag_dismiss"), {"reason": "综合岗。"}
    )
    assert response.status_code == 302
    assert light.flag(light.elderly).status == FlagStatus.DISMISSED


def test_resolving_an_open_flag_is_refused_on_the_page(light, client_for, official):
    response = english(client_for(official)).post(
        flag_url(light, "integrity_flag_resolve"), {"resolution": "x"}
    )
    assert response.status_code == 400
    assert light.flag(light.elderly).status == FlagStatus.OPEN


def test_review_actions_take_post_only(light, client_for, official):
    for name in ("integrity_flag_confirm", "integrity_flag_dismiss", "integrity_flag_resolve"):
        assert client_for(official).get(flag_url(light, name)).status_code == 405


def test_a_run_started_on_the_page_shows_its_progress(
    light, client_for, official, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(official).post(
            reverse("evaluation:integrity_run_start"), {"tender": ""}
        )
    run = IntegrityRun.objects.latest("pk")
    assert response["Location"] == reverse("evaluation:integrity_run", args=[run.pk])
    assert run.status == RunStatus.FINISHED
    html = english(client_for(official)).get(response["Location"]).content.decode()
    assert "100%" in html
    assert 'http-equiv="refresh"' not in html


def test_a_queued_run_page_refreshes_itself(light, client_for, official):
    client_for(official).post(
        reverse("evaluation:integrity_run_start"), {"tender": str(light.youth.pk)}
    )
    run = IntegrityRun.objects.latest("pk")
    assert run.status == RunStatus.QUEUED
    html = (
        client_for(official)
        .get(reverse("evaluation:integrity_run", args=[run.pk]))
        .content.decode()
    )
    assert 'http-equiv="refresh"' in html


def test_the_report_lists_every_flag_by_kind(light, client_for, auditor):
    html = english(client_for(auditor)).get(REPORT).content.decode()
    assert "Integrity report" in html
    assert "2 flags in all." in html
    assert light.flag(light.youth).subject_label in html


def test_the_dashboard_counts_the_open_flags_and_links_the_queue(
    light, client_for, official, org_admin
):
    html = english(client_for(official)).get(reverse("dashboard")).content.decode()
    assert "Integrity flags to review" in html
    assert QUEUE in html
    other = english(client_for(org_admin)).get(reverse("dashboard")).content.decode()
    assert "Integrity flags to review" not in other
    assert QUEUE not in other


def test_the_queue_is_paged_and_a_page_keeps_the_filters(light, client_for, auditor):
    from django.utils import timezone

    from evaluation.models import FlagKind, FlagSeverity, IntegrityFlag
    from evaluation.views.integrity import QUEUE_PAGE_SIZE

    now = timezone.now()
    IntegrityFlag.objects.bulk_create(
        IntegrityFlag(
            kind=FlagKind.R003_SHORT_PERIOD,
            severity=FlagSeverity.LOW,
            fingerprint=f"paging-{number:03d}",
            evidence_digest="-",
            subject_label=f"paging subject {number:03d}",
            first_seen_at=now,
            last_seen_at=now,
        )
        for number in range(QUEUE_PAGE_SIZE + 5)
    )
    client = english(client_for(auditor))
    first = client.get(QUEUE, {"kind": FlagKind.R003_SHORT_PERIOD}).content.decode()
    second = client.get(QUEUE, {"kind": FlagKind.R003_SHORT_PERIOD, "page": 2}).content.decode()
    shown = [f"paging subject {n:03d}" for n in range(QUEUE_PAGE_SIZE + 5)]
    on_first = {s for s in shown if s in first}
    on_second = {s for s in shown if s in second}
    assert len(on_first) == QUEUE_PAGE_SIZE
    assert on_second == set(shown) - on_first
    assert f"{QUEUE_PAGE_SIZE + 5} flags match." in first
    assert "Page 1 of 2" in first
    assert f"kind={FlagKind.R003_SHORT_PERIOD}&amp;page=2" in first
