"""Helpers for the evaluation page tests (no tests in here).

Pages are read in English (the cookie a language switch sets) so that the tests can check
that no Chinese is left outside the data: the data itself (names of organizations,
criteria, people, tenders; proposals, statements, reasons) is Chinese in these fixtures
and is taken out before the check.

The page modules build their state once per module (``tests/conftest.py``: ``building``
inside ``module_database``) with the shared-state helpers of the API modules, re-exported
here: ``build_personas``, ``build_pool``, ``build_opened``, a ``Shared`` record and an
``Evaluated`` tender re-read for each test.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings
from django.test import Client

from evaluation.models import (
    AssessorEmployment,
    AssessorProfile,
    AssessorRelation,
    PanelMember,
    PriceJustification,
    Score,
)
from orgs_registry.models import Organization, Person
from tenders.models import Bid, BidStaff, Tender, TenderCriterion
from tests.evaluation.test_api_support import (
    BUILT_AT,
    Evaluated,
    Shared,
    build_opened,
    build_personas,
    build_pool,
)

__all__ = [
    "BUILT_AT",
    "CJK",
    "Evaluated",
    "Shared",
    "build_opened",
    "build_personas",
    "build_pool",
    "chinese_outside_data",
    "english",
    "text_of",
]

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
LANGUAGE_MENU = re.compile(r'<option[^>]*lang="zh-Hans"[^>]*>.*?</option>')


def english(client: Client) -> Client:
    """The client reads the site in English from now on."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def text_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _data() -> list[str]:
    """Every Chinese value the fixtures stored: names, texts, reasons."""
    values: list[str] = []
    values += Organization.objects.values_list("name", flat=True)
    values += Tender.objects.values_list("title", flat=True)
    values += Tender.objects.values_list("description", flat=True)
    values += TenderCriterion.objects.values_list("name", flat=True)
    values += TenderCriterion.objects.values_list("description", flat=True)
    values += Person.objects.values_list("name", flat=True)
    values += BidStaff.objects.values_list("role", flat=True)
    values += Bid.objects.values_list("proposal", flat=True)
    values += PanelMember.objects.values_list("statement", flat=True)
    values += Score.objects.values_list("reason", flat=True)
    values += AssessorProfile.objects.values_list("agency", flat=True)
    values += AssessorEmployment.objects.values_list("employer_name", flat=True)
    values += AssessorEmployment.objects.values_list("position", flat=True)
    values += AssessorRelation.objects.values_list("organization_name", flat=True)
    values += AssessorRelation.objects.values_list("relation", flat=True)
    values += PriceJustification.objects.values_list("text", flat=True)
    values += PriceJustification.objects.values_list("decision_note", flat=True)
    for criterion in TenderCriterion.objects.all():
        values += [str(band.get("text", "")) for band in criterion.bands or []]
    return values


def chinese_outside_data(html: str, extra: Iterable[str] = ()) -> list[str]:
    """The Chinese left in ``html`` once the stored data and ``extra`` are taken out."""
    html = LANGUAGE_MENU.sub("", html)
    # Longest first, so that a name inside a longer text (an exclusion's detail names the
    # bidder) is not removed before the text.
    for value in sorted({v for v in [*_data(), *extra] if v}, key=len, reverse=True):
        html = html.replace(value, "")
        # Texts are shown escaped and with line breaks kept.
        html = html.replace(value.replace("\n", "<br>"), "")
    return CJK.findall(html)
