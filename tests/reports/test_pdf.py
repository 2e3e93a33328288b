"""The PDF helper renders Chinese with an embedded CJK font and no network access."""

from __future__ import annotations

import io

import pytest
from django.utils import translation
from pypdf import PdfReader

from reports.pdf import StaticFilesFetcher, render_pdf


def embedded_fonts(pdf: bytes) -> dict[str, bool]:
    """Font name -> whether its program is embedded in the file."""
    fonts = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            fonts[str(font["/BaseFont"])] = any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
    return fonts


def test_render_pdf_embeds_a_cjk_font_for_chinese_text():
    with translation.override("zh-hans"):
        pdf = render_pdf(
            "reports/smoke.html",
            {
                "heading": "解放碑街道政府购买服务项目",
                "body": "社会组织通过公开竞争承接社区服务。",
                "item": "居家养老服务",
                "amount": "¥480,000.00",
            },
        )
    assert pdf.startswith(b"%PDF-")
    fonts = embedded_fonts(pdf)
    cjk = {name: embedded for name, embedded in fonts.items() if "CJK" in name}
    assert cjk, fonts
    assert all(cjk.values()), "CJK fonts are embedded, not referenced"
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "解放碑街道政府购买服务项目" in text
    assert "居家养老服务" in text


def test_the_fetcher_refuses_network_urls():
    with pytest.raises(ValueError, match="local static files"):
        StaticFilesFetcher().fetch("https://example.com/evil.png")


def test_the_fetcher_serves_static_files():
    response = StaticFilesFetcher().fetch(
        "https://static.invalid/static/marketplace/img/favicon.svg"
    )
    assert response.content_type == "image/svg+xml"
    assert b"<svg" in response.read()
