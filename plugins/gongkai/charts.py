"""Bar charts drawn as inline SVG at build time, each with a data table beside it.

The site runs no script (strict CSP) and loads nothing from other hosts, so a
chart is plain SVG markup computed here and put into the page as it is. Bars
are laid out in percentages of the chart's width and the text in CSS pixels,
so a chart stays legible from a 360 px phone to a desktop without scaling the
text down: each row is a label line (long names wrap) over a bar with its
value just after the bar's end. Colours come from the stylesheet (``.chart``).

The picture is for sighted readers and is hidden from assistive technology;
the same numbers go into a ``<table>`` that screen readers read instead (and
that tests can check).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from markupsafe import Markup, escape

LINE_HEIGHT = 18
"""Pixels per label line (the chart's text is 14 px)."""
BAR_HEIGHT = 14
ROW_GAP = 10
INDENT = 16
"""Pixels a child row (a district under its city) is indented by."""
LABEL_WIDTH = 20
"""Label width before wrapping, in CJK characters (≈ 280 px: fits a 360 px phone)."""
BAR_SPAN = 86.0
"""Percent of the width the longest bar takes, leaving room for its value."""


@dataclass(frozen=True)
class Bar:
    """One row of a chart."""

    label: str
    value: float
    level: int = 0
    """Nesting depth: 1 for a sub-region or a specific sanction under its form."""


def _width(char: str) -> float:
    return 0.5 if ord(char) < 0x2E80 else 1.0


def wrap_label(label: str, width: float = LABEL_WIDTH) -> list[str]:
    """Split a label into lines of at most ``width`` CJK characters (Latin letters count half)."""
    lines, line, used = [], "", 0.0
    for char in label:
        if used + _width(char) > width and line:
            lines.append(line)
            line, used = "", 0.0
        line += char
        used += _width(char)
    lines.append(line)
    return lines


def format_number(value: float) -> str:
    """``12`` for whole numbers, ``91.5`` otherwise."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _svg(bars: list[Bar], unit: str) -> str:
    top = max((bar.value for bar in bars), default=0) or 1
    rows, y = [], 0
    for bar in bars:
        indent = bar.level * INDENT
        lines = wrap_label(bar.label, LABEL_WIDTH - bar.level)
        text = "".join(
            f'<tspan x="{indent}" y="{y + LINE_HEIGHT * (i + 1) - 4}">{escape(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        bar_top = y + LINE_HEIGHT * len(lines) + 2
        span = bar.value / top * BAR_SPAN
        width = f"{max(span, 0.4):.2f}%" if bar.value else "0"
        rows.append(
            f'<text class="chart-label">{text}</text>'
            f'<rect class="chart-bar" x="{indent}" y="{bar_top}" width="{width}" height="{BAR_HEIGHT}"/>'
            f'<text class="chart-value" x="{span:.2f}%" dx="{indent + 6}" y="{bar_top + BAR_HEIGHT - 2}">'
            f"{format_number(bar.value)}{escape(unit)}</text>"
        )
        y = bar_top + BAR_HEIGHT + ROW_GAP
    height = max(y, 1)
    return (
        f'<svg class="chart-svg" width="100%" height="{height}" aria-hidden="true" focusable="false">'
        + "".join(rows)
        + "</svg>"
    )


def _table(bars: list[Bar], caption: str, label_header: str, value_header: str) -> str:
    body = "".join(
        f'<tr><th scope="row">{"　" * bar.level}{escape(bar.label)}</th><td>{format_number(bar.value)}</td></tr>'
        for bar in bars
    )
    return (
        f'<div class="sr-only"><table class="chart-table"><caption>{escape(caption)}</caption>'
        f'<thead><tr><th scope="col">{escape(label_header)}</th><th scope="col">{escape(value_header)}</th></tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def bar_chart(
    bars: Iterable[Bar],
    caption: str,
    *,
    label_header: str = "项目",
    value_header: str = "数量",
    unit: str = "",
    empty: str = "暂无数据",
) -> Markup:
    """A horizontal bar chart (``<figure>`` with SVG and its data table), safe to insert as it is."""
    bars = list(bars)
    if not bars:
        return Markup(f'<p class="chart-empty">{escape(caption)}：{escape(empty)}</p>')
    return Markup(
        '<figure class="chart">'
        + _svg(bars, unit)
        + _table(bars, caption, label_header, value_header)
        + "</figure>"
    )
