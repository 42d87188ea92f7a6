"""One plotting style for the whole course; every function returns the matplotlib Figure.

    latency_cdf({"cold": ms_list, "warm": ms_list}, title="Cache hit vs miss")
    lines(x, {"LRU": y1, "LFU": y2}, xlabel="cache size (keys)", ylabel="hit rate")
    bars({"round robin": 0.66, "affinity": 0.0}, ylabel="sessions lost")
    hist({"sync": ms_list}, xlabel="latency (ms)")

Units go in the axis labels. No global rcParams are changed: the style is applied per figure.
"""

from __future__ import annotations

import contextlib

import matplotlib.pyplot as plt
import numpy as np

STYLE = {
    "figure.figsize": (7.0, 3.6),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "legend.frameon": False,
    "font.size": 10,
}
COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"]


@contextlib.contextmanager
def style():
    with plt.style.context(STYLE):
        yield


def figure(ncols: int = 1, nrows: int = 1, width: float | None = None, height: float | None = None):
    """A styled (fig, axes) pair; use inside labs for custom plots."""
    with style():
        w = width or STYLE["figure.figsize"][0] * (1 if ncols == 1 else 0.75 * ncols)
        h = height or STYLE["figure.figsize"][1] * nrows
        fig, axes = plt.subplots(nrows, ncols, figsize=(w, h), squeeze=True)
        fig.set_layout_engine("constrained")
    return fig, axes


def _finish(ax, title, xlabel, ylabel, legend=True):
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend()


def lines(x, series: dict, xlabel: str = "", ylabel: str = "", title: str = "", ax=None, marker="o",
          logx=False, logy=False, styles: dict | None = None):
    fig, ax = (ax.figure, ax) if ax is not None else figure()
    with style():
        for i, (label, y) in enumerate(series.items()):
            kw = {"marker": marker, "color": COLORS[i % len(COLORS)], "label": label, "markersize": 4}
            kw.update((styles or {}).get(label, {}))
            xs = x[label] if isinstance(x, dict) else x
            ax.plot(xs, y, **kw)
        if logx:
            ax.set_xscale("log")
        if logy:
            ax.set_yscale("log")
        _finish(ax, title, xlabel, ylabel)
    return fig


def bars(values: dict, ylabel: str = "", title: str = "", ax=None, fmt: str = "{:.2f}", errors: dict | None = None,
         colors: list | None = None):
    fig, ax = (ax.figure, ax) if ax is not None else figure()
    with style():
        labels = list(values)
        heights = [values[k] for k in labels]
        yerr = [errors[k] for k in labels] if errors else None
        bars_ = ax.bar(labels, heights, yerr=yerr, color=colors or [COLORS[i % len(COLORS)] for i in range(len(labels))])
        for b, h in zip(bars_, heights):
            ax.annotate(fmt.format(h), (b.get_x() + b.get_width() / 2, h), ha="center", va="bottom", fontsize=9)
        ax.grid(axis="x", visible=False)
        _finish(ax, title, "", ylabel, legend=False)
    return fig


def latency_cdf(samples: dict, title: str = "", xlabel: str = "latency (ms)", ax=None, logx: bool = True):
    """Empirical CDF per series, with p50 and p99 marked: the honest picture of a latency distribution."""
    fig, ax = (ax.figure, ax) if ax is not None else figure()
    with style():
        for i, (label, vals) in enumerate(samples.items()):
            v = np.sort(np.asarray(vals, dtype=float))
            if v.size == 0:
                continue
            y = np.arange(1, v.size + 1) / v.size
            c = COLORS[i % len(COLORS)]
            p50, p99 = np.percentile(v, [50, 99])
            ax.step(v, y, where="post", color=c, label=f"{label} (p50 {p50:.2f}, p99 {p99:.2f})")
            ax.plot([p50, p99], [0.5, 0.99], "o", color=c, markersize=4)
        if logx:
            ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        _finish(ax, title, xlabel, "fraction of requests ≤ x")
    return fig


def hist(samples: dict, xlabel: str = "", title: str = "", bins: int = 40, ax=None, logx: bool = False):
    fig, ax = (ax.figure, ax) if ax is not None else figure()
    with style():
        allv = np.concatenate([np.asarray(v, dtype=float) for v in samples.values() if len(v)])
        edges = (np.geomspace(max(allv.min(), 1e-6), allv.max(), bins) if logx
                 else np.linspace(allv.min(), allv.max(), bins))
        for i, (label, vals) in enumerate(samples.items()):
            ax.hist(vals, bins=edges, alpha=0.55, color=COLORS[i % len(COLORS)], label=label)
        if logx:
            ax.set_xscale("log")
        _finish(ax, title, xlabel, "count")
    return fig
