"""Inline SVG charts drawn from protected figures: line charts with bands and gaps, bar charts.

A chart's data is long (``x``, ``series``, ``y``, optional ``lower``/``upper``). A NaN ``y``
is a suppressed or unavailable figure: lines break there and no bar is drawn; a point standing
alone between gaps is still shown by its marker. Series differ by colour (Okabe-Ito, safe for
colour-blind readers) *and* by dash pattern, marker shape or hatching, so they stay apart in a
black-and-white print. Every chart carries ``<title>`` and ``<desc>`` for screen readers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import escape

from thbmonitor.report.formatting import format_number, is_number
from thbmonitor.report.model import Chart

WIDTH, HEIGHT = 640, 340
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("", "7 4", "2 3", "9 3 2 3", "4 2", "1 2", "12 4")
SHAPES = ("circle", "square", "triangle", "diamond")
Scale = Callable[[Any], float]
MAX_MARKED_POINTS = 40  # a series with more points is drawn as a line without point markers
CHAR_WIDTH = 6.4  # average glyph width at font-size 11, for a rough text layout


@dataclass(frozen=True)
class _Frame:
    """The plot area inside the SVG."""

    left: float
    top: float
    right: float
    bottom: float


def chart_id(key: str) -> str:
    """A safe HTML id for a chart key."""
    return "chart-" + re.sub(r"[^A-Za-z0-9_-]", "-", key)


def nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering low..high."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high <= low:
        high = low + (abs(low) if low else 1.0)
    raw = (high - low) / max(target, 1)
    if not (math.isfinite(raw) and raw > 1e-300):  # a range too small or too large to divide
        return [0.0, 1.0]
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    return [float(f"{k * step:.12g}") for k in range(first, last + 1)]


def _tick_label(value: float, step: float, lang: str) -> str:
    decimals = 0 if float(step).is_integer() else min(3, max(1, -math.floor(math.log10(step))))
    if decimals == 0 and abs(value) < 10000:
        return format_number(value, lang, 0, grouping=False)
    return format_number(value, lang, decimals)


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    r = 3.2
    if shape == "square":
        side = 2 * r
        return (
            f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{side:.1f}" height="{side:.1f}" '
            f'fill="{colour}"/>'
        )
    if shape == "triangle":
        pts = (
            f"{x:.1f},{y - r - 0.8:.1f} {x - r - 0.6:.1f},{y + r:.1f} {x + r + 0.6:.1f},{y + r:.1f}"
        )
        return f'<polygon points="{pts}" fill="{colour}"/>'
    if shape == "diamond":
        d = r + 1
        pts = f"{x:.1f},{y - d:.1f} {x + d:.1f},{y:.1f} {x:.1f},{y + d:.1f} {x - d:.1f},{y:.1f}"
        return f'<polygon points="{pts}" fill="{colour}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}"/>'


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start and end (exclusive) of each run of True values."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for i, flag in enumerate(mask):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(mask)))
    return runs


def _prepare(chart: Chart) -> pd.DataFrame:
    data = chart.data.copy()
    if "series" not in data.columns:
        data["series"] = ""
    for column in ("y", "lower", "upper"):
        if column in data.columns:
            data[column] = pd.to_numeric(data[column], errors="coerce").astype(float)
        else:
            data[column] = np.nan
    return data.reset_index(drop=True)


def _categories(values: pd.Series) -> list[object]:
    return list(dict.fromkeys(values.tolist()))


def _numeric_x(data: pd.DataFrame, kind: str) -> bool:
    return kind == "line" and all(is_number(v) for v in data["x"].tolist()) and len(data) > 0


def render_chart(chart: Chart, lang: str, ui: dict[str, str]) -> str:
    """The chart as an inline ``<svg>`` element (a string of markup)."""
    data = _prepare(chart)
    cid = chart_id(chart.key)
    series = _categories(data["series"])
    labels = [chart.series_labels[s](lang) if s in chart.series_labels else str(s) for s in series]
    show_legend = len(series) > 1 or any(labels)
    numeric_x = _numeric_x(data, chart.kind)
    categories = [] if numeric_x else _categories(data["x"])

    # Legend rows: laid out left to right, wrapping at the chart width.
    legend_items: list[tuple[float, float, int]] = []
    lx, ly = 12.0, 16.0
    if show_legend:
        for i, label in enumerate(labels):
            width = 34 + CHAR_WIDTH * len(label) + 16
            if lx + width > WIDTH - 8 and lx > 12:
                lx, ly = 12.0, ly + 18
            legend_items.append((lx, ly, i))
            lx += width
    top = (ly + 16) if show_legend else 14.0

    tick_text = [str(c) for c in categories]
    band = (WIDTH - 80) / max(len(categories), 1)
    rotate = bool(categories) and max(len(t) for t in tick_text) * CHAR_WIDTH > band - 4
    longest = min(max((len(t) for t in tick_text), default=0), 22)
    bottom_pad = (16 + longest * CHAR_WIDTH * 0.6) if rotate else 22.0
    x_title = chart.x_label(lang) if chart.x_label else ""
    y_title = chart.y_label(lang) if chart.y_label else ""
    finite = np.concatenate([data[c].to_numpy(float) for c in ("y", "lower", "upper")])
    finite = finite[np.isfinite(finite)]
    if finite.size:
        low, high = min(0.0, float(finite.min())), max(0.0, float(finite.max()))
        ticks = nice_ticks(low, high)
    else:
        ticks = [0.0, 1.0]
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    widest = max(len(_tick_label(t, step, lang)) for t in ticks)
    frame = _Frame(
        left=max(40.0, 14 + widest * CHAR_WIDTH) + (20.0 if y_title else 0.0),
        top=top,
        right=WIDTH - 16.0,
        bottom=HEIGHT - bottom_pad - (20.0 if x_title else 4.0),
    )
    parts: list[str] = []
    title = chart.title(lang)
    desc = _description(chart, data, labels, numeric_x, lang, ui)
    parts.append(
        f'<svg class="chart" id="{cid}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{cid}-title">{escape(title)}</title>'
        f'<desc id="{cid}-desc">{escape(desc)}</desc>'
    )
    parts.append(_hatches(cid, len(series)))
    if finite.size == 0:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" class="empty">'
            f"{escape(ui['chart_empty'])}</text></svg>"
        )
        return "".join(parts)

    y0, y1 = ticks[0], ticks[-1]
    if y1 <= y0:  # degenerate range (values too close to tell apart)
        y1 = y0 + 1.0

    def sy(v: float) -> float:
        return frame.bottom - (v - y0) / (y1 - y0) * (frame.bottom - frame.top)

    # y grid and labels
    for t in ticks:
        yy = sy(t)
        parts.append(
            f'<line class="grid" x1="{frame.left}" x2="{frame.right}" y1="{yy:.1f}" y2="{yy:.1f}"/>'
            f'<text class="tick" x="{frame.left - 6}" y="{yy + 4:.1f}" text-anchor="end">'
            f"{escape(_tick_label(t, step, lang))}</text>"
        )

    if numeric_x:
        xs_all = data["x"].astype(float).to_numpy()
        x0, x1 = float(xs_all.min()), float(xs_all.max())
        if x1 == x0:
            x0, x1 = x0 - 1, x1 + 1
        uniq = sorted(set(xs_all.tolist()))
        integral = all(float(v).is_integer() for v in uniq)
        xticks = uniq if integral and len(uniq) <= 12 else nice_ticks(x0, x1, 6)
        xticks = [t for t in xticks if x0 - 1e-9 <= t <= x1 + 1e-9]
        xstep = (xticks[1] - xticks[0]) if len(xticks) > 1 else 1.0
        pad = 12.0

        scale_x = (frame.right - frame.left - 2 * pad) / (x1 - x0)

        def sx(v: Any) -> float:
            return frame.left + pad + (float(v) - x0) * scale_x

        for t in xticks:
            parts.append(
                f'<text class="tick" x="{sx(t):.1f}" y="{frame.bottom + 16:.1f}" '
                f'text-anchor="middle">{escape(_tick_label(t, xstep, lang))}</text>'
            )
    else:
        band = (frame.right - frame.left) / max(len(categories), 1)
        index = {c: i for i, c in enumerate(categories)}

        def sx(v: Any) -> float:
            return frame.left + band * (index[v] + 0.5)

        for c, text in zip(categories, tick_text, strict=True):
            shown = text if len(text) <= 22 else text[:21] + "…"
            x, y = sx(c), frame.bottom + 14
            if rotate:
                parts.append(
                    f'<text class="tick" x="{x:.1f}" y="{y:.1f}" text-anchor="end" '
                    f'transform="rotate(-35 {x:.1f} {y:.1f})">{escape(shown)}</text>'
                )
            else:
                parts.append(
                    f'<text class="tick" x="{x:.1f}" y="{y + 2:.1f}" text-anchor="middle">'
                    f"{escape(shown)}</text>"
                )

    # axes
    zero = sy(0.0) if y0 <= 0 <= y1 else frame.bottom
    parts.append(
        f'<line class="axis" x1="{frame.left}" x2="{frame.right}" y1="{zero:.1f}" y2="{zero:.1f}"/>'
        f'<line class="axis" x1="{frame.left}" x2="{frame.left}" y1="{frame.top}" '
        f'y2="{frame.bottom}"/>'
    )
    if x_title:
        parts.append(
            f'<text class="axis-label" x="{(frame.left + frame.right) / 2:.1f}" '
            f'y="{HEIGHT - 6}" text-anchor="middle">{escape(x_title)}</text>'
        )
    if y_title:
        cy = (frame.top + frame.bottom) / 2
        parts.append(
            f'<text class="axis-label" x="14" y="{cy:.1f}" text-anchor="middle" '
            f'transform="rotate(-90 14 {cy:.1f})">{escape(y_title)}</text>'
        )

    if chart.kind == "bar":
        parts.extend(_bars(data, series, sx, sy, band, zero, cid))
    else:
        parts.extend(_lines(data, series, numeric_x, sx, sy))

    for lx, ly, i in legend_items:
        parts.append(_legend_item(chart.kind, lx, ly, i, labels[i], cid))
    parts.append("</svg>")
    return "".join(parts)


def _hatches(cid: str, n: int) -> str:
    """Hatch patterns so that bars stay distinguishable in black-and-white print."""
    angles = (0, 45, 135, 90, 0, 45, 135)
    out = ["<defs>"]
    for i in range(1, n):
        colour = COLOURS[i % len(COLOURS)]
        angle = angles[i % len(angles)]
        gap = 4 + (i // len(angles))
        out.append(
            f'<pattern id="{cid}-p{i}" patternUnits="userSpaceOnUse" width="{gap}" '
            f'height="{gap}" patternTransform="rotate({angle})">'
            f'<rect width="{gap}" height="{gap}" fill="#fff"/>'
            f'<rect width="{gap / 2:.1f}" height="{gap}" fill="{colour}"/></pattern>'
        )
    out.append("</defs>")
    return "".join(out)


def _fill(i: int, cid: str) -> str:
    return COLOURS[0] if i == 0 else f"url(#{cid}-p{i})"


def _lines(
    data: pd.DataFrame, series: list[Any], numeric_x: bool, sx: Scale, sy: Scale
) -> list[str]:
    out: list[str] = []
    for i, name in enumerate(series):
        rows = data[data["series"] == name]
        if numeric_x:
            rows = rows.assign(_x=rows["x"].astype(float)).sort_values("_x", kind="stable")
        colour, dash = COLOURS[i % len(COLOURS)], DASHES[i % len(DASHES)]
        xs = [sx(v) for v in rows["x"].tolist()]
        y, lo, hi = (rows[c].to_numpy(float) for c in ("y", "lower", "upper"))
        group = f'<g class="series s{i}" data-series="{escape(str(name))}">'
        out.append(group)
        for a, b in _runs(np.isfinite(lo) & np.isfinite(hi)):
            upper = [f"{xs[k]:.1f},{sy(hi[k]):.1f}" for k in range(a, b)]
            lower = [f"{xs[k]:.1f},{sy(lo[k]):.1f}" for k in reversed(range(a, b))]
            if b - a == 1:  # a lone interval: a whisker
                out.append(
                    f'<line class="whisker" x1="{xs[a]:.1f}" x2="{xs[a]:.1f}" '
                    f'y1="{sy(lo[a]):.1f}" y2="{sy(hi[a]):.1f}" stroke="{colour}"/>'
                )
            else:
                out.append(
                    f'<polygon class="band" points="{" ".join(upper + lower)}" '
                    f'fill="{colour}" stroke="{colour}"/>'
                )
        for a, b in _runs(np.isfinite(y)):
            if b - a > 1:
                pts = " ".join(f"{xs[k]:.1f},{sy(y[k]):.1f}" for k in range(a, b))
                dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
                out.append(f'<polyline class="line" points="{pts}" stroke="{colour}"{dash_attr}/>')
        shape = SHAPES[i % len(SHAPES)]
        runs = _runs(np.isfinite(y))
        dense = sum(b - a for a, b in runs) > MAX_MARKED_POINTS
        for a, b in runs:
            if dense and b - a > 1:
                continue  # a long curve: markers would hide the line; lone points keep theirs
            for k in range(a, b):
                out.append(_marker(shape, xs[k], sy(y[k]), colour))
        out.append("</g>")
    return out


def _bars(
    data: pd.DataFrame,
    series: list[Any],
    sx: Scale,
    sy: Scale,
    band: float,
    zero: float,
    cid: str,
) -> list[str]:
    out: list[str] = []
    n = max(len(series), 1)
    group_width = band * 0.8
    width = group_width / n
    for i, name in enumerate(series):
        rows = data[data["series"] == name]
        out.append(f'<g class="series s{i}" data-series="{escape(str(name))}">')
        for x, y, lo, hi in zip(
            rows["x"].tolist(), rows["y"], rows["lower"], rows["upper"], strict=True
        ):
            left = sx(x) - group_width / 2 + i * width
            if math.isfinite(y):
                top = min(sy(y), zero)
                height = abs(sy(y) - zero)
                out.append(
                    f'<rect class="bar" x="{left + 1:.1f}" y="{top:.1f}" '
                    f'width="{max(width - 2, 1):.1f}" height="{height:.1f}" '
                    f'fill="{_fill(i, cid)}" stroke="{COLOURS[i % len(COLOURS)]}"/>'
                )
            if math.isfinite(lo) and math.isfinite(hi):
                mid = left + width / 2
                out.append(
                    f'<path class="whisker" d="M{mid:.1f},{sy(lo):.1f}V{sy(hi):.1f}'
                    f'M{mid - 3:.1f},{sy(lo):.1f}h6M{mid - 3:.1f},{sy(hi):.1f}h6"/>'
                )
        out.append("</g>")
    return out


def _legend_item(kind: str, x: float, y: float, i: int, label: str, cid: str) -> str:
    colour = COLOURS[i % len(COLOURS)]
    if kind == "bar":
        key = (
            f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="24" height="11" '
            f'fill="{_fill(i, cid)}" stroke="{colour}"/>'
        )
    else:
        dash = DASHES[i % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        key = (
            f'<line class="line" x1="{x:.1f}" x2="{x + 26:.1f}" y1="{y - 4:.1f}" '
            f'y2="{y - 4:.1f}" stroke="{colour}"{dash_attr}/>'
            + _marker(SHAPES[i % len(SHAPES)], x + 13, y - 4, colour)
        )
    return f'<g class="legend">{key}<text x="{x + 32:.1f}" y="{y:.1f}">{escape(label)}</text></g>'


def _description(
    chart: Chart,
    data: pd.DataFrame,
    labels: list[str],
    numeric_x: bool,
    lang: str,
    ui: dict[str, str],
) -> str:
    kind = ui["chart_kind_bar"] if chart.kind == "bar" else ui["chart_kind_line"]
    names = ", ".join(label for label in labels if label)
    text = kind + (f" ({names})" if names else "") + "."
    xs = data["x"].tolist()
    if xs:
        if numeric_x:
            first, last = min(float(v) for v in xs), max(float(v) for v in xs)
            span = [_tick_label(first, 1.0 if first.is_integer() else 0.1, lang)]
            span.append(_tick_label(last, 1.0 if last.is_integer() else 0.1, lang))
        else:
            cats = _categories(data["x"])
            span = [str(cats[0]), str(cats[-1])]
        text += " " + ui["chart_range"].format(first=span[0], last=span[1])
    if data["y"].isna().any():
        text += " " + ui["chart_gaps"]
    if (data["lower"].notna() & data["upper"].notna()).any():
        text += " " + ui["chart_bands"]
    return text + " " + ui["chart_table_below"]
