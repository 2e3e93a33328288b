"""Charts as inline SVG, drawn by matplotlib (STYLE.md 7): the same picture on a page and in a
PDF. Text stays text (``svg.fonttype = none``) so it is searchable, selectable and set in the
page's CJK font; the SVG carries no script and no external reference, so it is safe to inline
with ``|safe`` and needs no CDN.

Each function takes plain labels and numbers and returns a :class:`Chart`. ``{{ chart }}``
in a template (a page or a PDF) is an ``<img>`` of the SVG as a ``data:`` URI with the title
as its text alternative: the Content-Security-Policy forbids inline styles in pages, and an
image is its own document, so matplotlib's style attributes stay valid. Pages print the numbers
beside each chart as a table.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
from django.utils.html import format_html
from django.utils.safestring import SafeString

matplotlib.use("Agg")  # no display: charts are drawn for files, never for a window

from cycler import cycler
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

# The portal's palette (marketplace/static/marketplace/css/app.css).
PALETTE = ["#b3261e", "#1f6feb", "#2e7d32", "#ed6c02", "#6a1b9a", "#00838f", "#5d4037", "#757575"]
# The server's font first (fonts-noto-cjk, also in the PDFs), then what readers' machines have.
FONT_FAMILY = [
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "PingFang SC",
    "Microsoft YaHei",
    "DejaVu Sans",
]

_STYLE: dict[Any, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "marketplace",  # the same data draws the same bytes (tests, caches)
    "font.family": "sans-serif",
    "font.sans-serif": FONT_FAMILY,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#888888",
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.prop_cycle": cycler(color=PALETTE),
}

_XML_DECLARATION = re.compile(r"^<\?xml[^>]*>\s*(<!DOCTYPE[^>]*>\s*)?", re.DOTALL)


@dataclass(frozen=True)
class Chart:
    """A drawn chart: its SVG and its title (the text alternative)."""

    svg: str
    title: str

    @property
    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()

    def __html__(self) -> SafeString:
        return format_html('<img class="chart" src="{}" alt="{}">', self.data_uri, self.title)

    def __str__(self) -> str:
        return str(self.__html__())


def _svg(figure: Figure, title: str) -> Chart:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    svg = _XML_DECLARATION.sub("", buffer.getvalue())
    safe_title = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    svg = svg.replace("<svg ", '<svg role="img" ', 1)
    return Chart(svg=svg.replace(">", f"><title>{safe_title}</title>", 1), title=title)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    unit: str = "",
    horizontal: bool = False,
    width: float = 6.0,
    height: float = 3.0,
) -> Chart:
    """One series of bars (horizontal for long labels), the value written on each bar."""
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(figsize=(width, height))
        positions = range(len(values))
        if horizontal:
            bars = axes.barh(list(positions), list(values), color=PALETTE[0])
            axes.set_yticks(list(positions), list(labels))
            axes.invert_yaxis()
        else:
            bars = axes.bar(list(positions), list(values), color=PALETTE[0])
            axes.set_xticks(list(positions), list(labels))
        axes.bar_label(bars, fmt=_number_format(values), padding=2, fontsize=8)
        axes.set_title(title)
        if unit:
            (axes.set_xlabel if horizontal else axes.set_ylabel)(unit)
        return _svg(figure, title)


def grouped_bar_chart(
    categories: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    unit: str = "",
    stacked: bool = False,
    width: float = 6.0,
    height: float = 3.0,
) -> Chart:
    """Several series per category, side by side or stacked, with a legend."""
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(figsize=(width, height))
        count = max(len(series), 1)
        bar_width = 0.8 if stacked else 0.8 / count
        bottom = [0.0] * len(categories)
        for index, (name, values) in enumerate(series.items()):
            if stacked:
                positions = [float(p) for p in range(len(categories))]
                axes.bar(positions, list(values), bar_width, bottom=bottom, label=name)
                bottom = [b + float(v) for b, v in zip(bottom, values, strict=True)]
            else:
                positions = [p - 0.4 + bar_width * (index + 0.5) for p in range(len(categories))]
                axes.bar(positions, list(values), bar_width, label=name)
        axes.set_xticks(list(range(len(categories))), list(categories))
        axes.set_title(title)
        if unit:
            axes.set_ylabel(unit)
        if series:
            axes.legend(frameon=False, fontsize=8)
        return _svg(figure, title)


def line_chart(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    unit: str = "",
    width: float = 6.0,
    height: float = 3.0,
) -> Chart:
    """Series over ordered labels (years, months), with markers."""
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(figsize=(width, height))
        for name, values in series.items():
            axes.plot(list(labels), list(values), marker="o", label=name)
        axes.set_title(title)
        if unit:
            axes.set_ylabel(unit)
        if len(series) > 1:
            axes.legend(frameon=False, fontsize=8)
        return _svg(figure, title)


def histogram(
    values: Sequence[float],
    *,
    bins: int | Sequence[float] = 10,
    title: str,
    unit: str = "",
    width: float = 6.0,
    height: float = 3.0,
) -> Chart:
    """The distribution of one measure (scores, price-to-budget ratios)."""
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(figsize=(width, height))
        axes.hist(list(values), bins=bins, color=PALETTE[0], edgecolor="white")
        axes.set_title(title)
        if unit:
            axes.set_xlabel(unit)
        return _svg(figure, title)


def _number_format(values: Sequence[float]) -> str:
    """Whole numbers without decimals, others with one."""
    whole = all(float(value).is_integer() for value in values)
    return "{:,.0f}" if whole else "{:,.1f}"
