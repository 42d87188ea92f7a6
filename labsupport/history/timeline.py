"""A history as a picture: one lane per client, one bar per op from invoke to completion.

    timeline(h)                                   # ok blue, fail grey, unknown amber hatched and open-ended
    timeline(h, linearizable(h))                  # ops a checker names get a red outline
    timeline(h, [stale_reads(h), causal(h)], focus=True)   # zoom on the violations of a long history
"""

from __future__ import annotations

from matplotlib.collections import PatchCollection
from matplotlib.patches import Patch, Rectangle

from ..plot import COLORS, figure, style
from .record import FAIL, OK, History

RED = "#dc2626"
FILL = {OK: COLORS[0], FAIL: "#9ca3af", "unknown": COLORS[3]}


def timeline(h: History, results=None, title: str = "", ax=None, focus: bool = False,
             labels: bool | None = None, margin_ms: float | None = None):
    """Draw ``h``; ``results`` (a Result or a list) outline their violating ops in red; returns the figure."""
    results = [] if results is None else results if isinstance(results, list | tuple) else [results]
    bad = set().union(*(r.bad_ops() for r in results)) if results else set()
    lanes = h.clients()
    row = {c: i for i, c in enumerate(lanes)}
    ops = list(h.ops)
    t_end = max((o.complete_ms if o.complete_ms is not None else o.invoke_ms for o in ops), default=1.0)
    lo, hi = 0.0, t_end * 1.03 + 1e-3
    first = next((v.ops[0] for r in results for v in r.violations if v.ops), None)
    if focus and first is not None:          # zoom on the first violation's main op and what overlaps it
        a, b = first.invoke_ms, first.complete_ms if first.complete_ms is not None else first.invoke_ms
        pad = margin_ms if margin_ms is not None else max(5.0, 2 * (b - a))
        lo, hi = max(0.0, a - pad), min(hi, b + pad)
        ops = [o for o in ops if o.invoke_ms <= hi and (o.complete_ms is None or o.complete_ms >= lo)]
    if labels is None:
        labels = len(ops) <= 120
    if ax is None:
        fig, ax = figure(height=1.0 + 0.45 * len(lanes))
    else:
        fig = ax.figure
    with style():
        bars: dict = {OK: [], FAIL: [], "unknown": []}
        for o in ops:
            y = row[o.client] - 0.35
            open_ended = o.outcome not in (OK, FAIL) or o.complete_ms is None
            end = hi if o.complete_ms is None else o.complete_ms
            width = max(end - o.invoke_ms, (hi - lo) * 0.002)
            if open_ended and end < hi:      # it may still take effect later: a dotted tail, no end
                tail = min(hi, end + 0.15 * (hi - lo))
                ax.plot([end, tail], [row[o.client]] * 2, linestyle=":", color=FILL["unknown"], linewidth=1.5,
                        zorder=2, gid=f"unknown tail {o.index}")
            bars[OK if o.outcome == OK else FAIL if o.outcome == FAIL else "unknown"].append(
                Rectangle((o.invoke_ms, y), width, 0.7))
            if o.index in bad:
                ax.add_patch(Rectangle((o.invoke_ms, y), width, 0.7, fill=False, edgecolor=RED, linewidth=2.2,
                                       zorder=4, gid=f"violation {o.index}"))
            if labels or o.index in bad:
                ax.text(o.invoke_ms + (hi - lo) * 0.004, row[o.client], o.label(), fontsize=7, va="center",
                        ha="left", clip_on=True, zorder=5,
                        color="black" if o.outcome != OK else "white")
        for outcome, rects in bars.items():
            if rects:
                ax.add_collection(PatchCollection(
                    rects, facecolor=FILL[outcome],
                    edgecolor="white" if outcome != "unknown" else FILL[outcome],
                    linewidth=0.6, alpha=1.0 if outcome == OK else 0.55, zorder=3, gid=outcome,
                    hatch="//" if outcome == "unknown" else None))
        ax.set_yticks(range(len(lanes)), lanes)
        ax.set_ylim(len(lanes) - 0.5, -0.5)
        ax.set_xlim(lo, hi)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel("time since the history started (ms)")
        ax.set_ylabel("client")
        handles = [Patch(facecolor=FILL[OK], label="ok"),
                   Patch(facecolor=FILL[FAIL], alpha=0.55, label="fail"),
                   Patch(facecolor=FILL["unknown"], alpha=0.55, hatch="//", label="unknown (open-ended)")]
        if bad:
            handles.append(Patch(fill=False, edgecolor=RED, linewidth=2, label="named by a checker"))
        ax.legend(handles=handles, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(handles),
                  fontsize=8, borderaxespad=0.2)
        if title:
            ax.set_title(title, loc="left", pad=22)
    return fig
