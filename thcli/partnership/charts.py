"""The board report's charts, drawn by matplotlib when it is installed (``pip install 'thcli[reports]'``).

matplotlib is imported here, inside the functions, and only when a report
is made: it is an optional extra, and it costs about half a second to load.
Figures are made with ``matplotlib.figure.Figure`` and its Agg canvas, never
pyplot, so nothing opens a window and nothing global is left behind.

A suppressed figure stays suppressed in a chart: no bar is drawn for it,
and its text (``<5``, or ``hidden`` for a cell hidden so that a small one
cannot be worked out from the total) is written where the bar would be.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

#: What the report says where a chart would be, when matplotlib is not installed.
INSTALL_HINT = ("Charts are left out because matplotlib is not installed: install the reports extra "
                "(pip install 'thcli[reports]') and make the report again to add them.")

_BLUE, _GREY, _ORANGE = "#2f5597", "#9dc3e6", "#c55a11"
_WIDTH, _HEIGHT, _DPI = 6.3, 2.7, 150


def available() -> bool:
    """Whether matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value (None when hidden) and the text shown for it."""

    label: str
    value: float | None
    text: str


def _figure(height: float = _HEIGHT):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(_WIDTH, height), dpi=_DPI)
    figure.set_layout_engine("constrained")
    return figure


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": "thcli"})
    return buffer.getvalue()


def _style(axes) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(labelsize=7)
    axes.yaxis.label.set_size(8)
    axes.xaxis.label.set_size(8)


def referrals_per_month(bars: list[Bar]) -> bytes:
    """Vertical bars, one a month; a hidden month has its text instead of a bar."""
    figure = _figure()
    axes = figure.subplots()
    _style(axes)
    positions = range(len(bars))
    shown = [b.value if b.value is not None else 0 for b in bars]
    axes.bar(positions, shown, color=_BLUE, width=0.7)
    top = max(shown + [1])
    for x, bar in zip(positions, bars, strict=True):
        axes.text(x, (bar.value or 0) + top * 0.02, bar.text, ha="center", va="bottom", fontsize=6.5,
                  color=_ORANGE if bar.value is None else "#333333")
    axes.set_xticks(list(positions), [b.label for b in bars], rotation=0 if len(bars) <= 12 else 90)
    axes.set_ylabel("Referrals")
    axes.set_ylim(0, top * 1.18)
    return _png(figure)


def time_to_fit(groups: list[tuple[str, Bar, Bar, str]], target_days: int | None = None) -> bytes:
    """Per district: bars of the median and 90th percentile working days to fit, and the share within target."""
    height = max(_HEIGHT, 0.9 + 0.42 * len(groups))
    figure = _figure(height)
    axes = figure.subplots()
    _style(axes)
    rows = range(len(groups))
    medians = [g[1].value if g[1].value is not None else 0 for g in groups]
    p90s = [g[2].value if g[2].value is not None else 0 for g in groups]
    # The y axis is turned upside down below (first district on top): the median's bar sits above its p90.
    axes.barh([y - 0.2 for y in rows], medians, height=0.38, color=_BLUE, label="Median")
    axes.barh([y + 0.2 for y in rows], p90s, height=0.38, color=_GREY, label="90th percentile")
    most = max(medians + p90s + [target_days or 0, 1])
    for y, (_, median_bar, p90_bar, within) in zip(rows, groups, strict=True):
        axes.text((median_bar.value or 0) + most * 0.01, y - 0.2, median_bar.text, va="center", fontsize=6.5,
                  color=_ORANGE if median_bar.value is None else "#333333")
        axes.text((p90_bar.value or 0) + most * 0.01, y + 0.2, p90_bar.text, va="center", fontsize=6.5,
                  color=_ORANGE if p90_bar.value is None else "#333333")
        axes.text(most * 1.32, y, within, va="center", ha="right", fontsize=7)
    if target_days:
        axes.axvline(target_days, color=_ORANGE, linestyle="--", linewidth=1,
                     label=f"Standard target ({target_days} working days)")
    axes.set_yticks(list(rows), [g[0] for g in groups])
    axes.invert_yaxis()
    axes.set_xlim(0, most * 1.34)
    axes.set_xlabel("Working days from referral to measures fitted (right: share fitted within target)")
    axes.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=3)
    return _png(figure)


def spend_by_source(bars: list[Bar]) -> bytes:
    """Horizontal bars of spend (pounds) per fund source; hidden ones have their text instead."""
    height = max(_HEIGHT * 0.8, 0.8 + 0.32 * len(bars))
    figure = _figure(height)
    axes = figure.subplots()
    _style(axes)
    rows = range(len(bars))
    shown = [b.value if b.value is not None else 0 for b in bars]
    axes.barh(list(rows), shown, color=_BLUE, height=0.6)
    most = max(shown + [1])
    for y, bar in zip(rows, bars, strict=True):
        axes.text((bar.value or 0) + most * 0.01, y, bar.text, va="center", fontsize=6.5,
                  color=_ORANGE if bar.value is None else "#333333")
    axes.set_yticks(list(rows), [b.label for b in bars])
    axes.invert_yaxis()
    axes.set_xlim(0, most * 1.25)
    axes.set_xlabel("Spend (£)")
    axes.xaxis.set_major_formatter(_pounds_formatter())
    return _png(figure)


def _pounds_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: f"£{value:,.0f}")
