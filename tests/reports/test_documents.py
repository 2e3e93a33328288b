"""The document registry, the download view and ``render_report`` with a stand-in document;
the charts every document and page draws."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import Http404
from django.urls import reverse
from pypdf import PdfReader

from reports import charts, documents


def stand_in(kind: str = "tender_notice") -> documents.Document:
    """A document of ``kind`` over plain numbers: 7 is visible, anything else is not."""

    def for_user(user, pk):
        if pk != 7:
            raise Http404
        return pk

    def by_id(pk):
        if pk != 7:
            raise LookupError("no such object")
        return pk

    return documents.Document(
        kind=kind,
        label="stand-in",
        template="reports/smoke.html",
        for_user=for_user,
        by_id=by_id,
        latest=lambda: 7,
        context=lambda obj, user: {
            "heading": f"解放碑街道 {obj}",
            "body": "user" if user is not None else "system",
            "item": "居家养老服务",
            "amount": "¥1.00",
        },
        filename=lambda obj: f"notice-{obj}",
    )


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(documents._registry, "tender_notice", stand_in())


def text_of(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_only_the_kinds_of_the_contract_can_be_registered():
    with pytest.raises(ValueError, match="unknown document kind"):
        documents.register(stand_in("invoice"))


def test_an_unknown_kind_names_the_known_ones(registered):
    with pytest.raises(LookupError, match="tender_notice"):
        documents.document_for("invoice")


def test_languages_fall_back_to_the_current_one():
    assert documents.language_of("EN") == "en"
    assert documents.language_of("zh-hans") == "zh-hans"
    assert documents.language_of("klingon") in documents.LANGUAGES


@pytest.mark.django_db
def test_the_download_is_an_attachment_in_the_asked_language(registered, client):
    response = client.get(
        reverse("reports:document_pdf", args=["tender_notice", 7]), {"lang": "en"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert "notice-7-en.pdf" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    assert "解放碑街道 7" in text_of(b"".join(response.streaming_content))


@pytest.mark.django_db
def test_what_the_user_may_not_read_and_unknown_kinds_are_404(registered, client):
    assert client.get(reverse("reports:document_pdf", args=["tender_notice", 8])).status_code == 404
    assert client.get(reverse("reports:document_pdf", args=["invoice", 7])).status_code == 404


@pytest.mark.django_db
def test_the_download_takes_only_get(registered, client):
    url = reverse("reports:document_pdf", args=["tender_notice", 7])
    assert client.post(url).status_code == 405


def test_the_command_writes_the_latest_or_the_named_object(registered, tmp_path):
    out = tmp_path / "notice.pdf"
    call_command("render_report", "tender_notice", "--out", str(out))
    assert "解放碑街道 7" in text_of(out.read_bytes())
    assert "system" in text_of(out.read_bytes())
    with pytest.raises(CommandError, match="tender_notice 8: no such object"):
        call_command("render_report", "tender_notice", "8", "--out", str(out))


def test_the_command_refuses_a_missing_folder(registered, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("render_report", "tender_notice", "--out", str(tmp_path / "no" / "x.pdf"))


def test_a_chart_is_an_image_of_svg_with_its_title_and_no_script():
    chart = charts.bar_chart(["养老", "青少年"], [3, 5.5], title="按类别 <支出>", unit="万元")
    assert chart.svg.startswith("<svg")
    assert "<title>按类别 &lt;支出&gt;</title>" in chart.svg
    assert "<script" not in chart.svg
    assert 'href="http' not in chart.svg  # nothing fetched from elsewhere
    html = chart.__html__()
    assert html.startswith('<img class="chart" src="data:image/svg+xml;base64,')
    assert 'alt="按类别 &lt;支出&gt;"' in html


def test_the_same_data_draws_the_same_chart():
    first = charts.grouped_bar_chart(["2025", "2026"], {"招标": [1, 2], "补贴": [3, 1]}, title="t")
    second = charts.grouped_bar_chart(["2025", "2026"], {"招标": [1, 2], "补贴": [3, 1]}, title="t")
    assert first.svg == second.svg
    assert charts.line_chart(["a", "b"], {"x": [1, 2]}, title="l").svg != first.svg
    assert "<svg" in charts.histogram([1, 2, 2, 3], title="h").svg


@pytest.mark.django_db
def test_the_api_serves_the_same_document_with_the_callers_rights(registered, client):
    url = reverse("api:document", args=["tender_notice", 7])
    response = client.get(url, {"lang": "en"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert "notice-7-en.pdf" in response["Content-Disposition"]
    assert "解放碑街道 7" in text_of(b"".join(response.streaming_content))
    missing = client.get(reverse("api:document", args=["tender_notice", 8]))
    assert missing.status_code == 404
    assert missing.json()["error"]
    assert client.get(reverse("api:document", args=["invoice", 7])).status_code == 404
    assert client.post(url).status_code == 405
