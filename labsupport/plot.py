"""One plotting style for the whole course; every function returns the matplotlib Figure.

    latency_cdf({"cold": ms_list, "warm": ms_list}, title="Cache hit vs miss")
    lines(x, {"LRU": y1, "LFU": y2}, xlabel="cache size (keys)", ylabel="hit rate")
    bars({"round robin": 0.66, "affinity": 0.0}, ylabel="sessions lost")
    hist({"sync": ms_list}, xlabel="latency (ms)")
    stacked_bars({"HTTPS": {"connect": 0.1, "TLS handshake": 2.5}}, ylabel="ms")   # where the time goes
    grouped_bars({"round robin": {"gpu-0": 80, "gpu-1": 80}, "least conn": {"gpu-0": 120, "gpu-1": 40}}, ylabel="requests")
    strip({"round robin": p99_per_seed, "least conn": p99_per_seed2}, ylabel="p99 latency (ms)")  # dots + median
    outcomes_over_time(t_s, statuses, bin_s=0.25)   # stacked 200 / 429 per time bin
    timeline({"1 client": spans, "4 clients": spans4})   # when each request was in flight, per client
    who_served(replica, lost, first=homes)         # client x request grid: which replica, which failed
    plain_log_ticks(ax)                            # 20, 50, 100 on log axes instead of 2x10^1

Units go in the axis labels. No global rcParams are changed: the style is applied per figure.
"""

from __future__ import annotations

import contextlib

import matplotlib.pyplot as plt
import numpy as np

# Load the backend now, outside any style() block: in Jupyter, loading the inline backend turns on
# interactive mode, and an rc_context exit would turn it off again (later figures would not show).
plt.switch_backend(plt.get_backend())

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


def outcomes_over_time(t_s, outcomes, bin_s: float = 0.25, title: str = "", ax=None, order=None,
                       ylabel: str = "requests per bin"):
    """Stacked bars: how many calls had each outcome (e.g. HTTP 200 / 429) in each ``bin_s`` of time."""
    fig, ax = (ax.figure, ax) if ax is not None else figure()
    t = np.asarray(t_s, dtype=float)
    labels = order or sorted({str(o) for o in outcomes})
    edges = np.arange(0, (t.max() if t.size else 0) + bin_s, bin_s)
    if edges.size < 2:
        edges = np.array([0, bin_s])
    with style():
        bottom = np.zeros(edges.size - 1)
        for i, label in enumerate(labels):
            counts, _ = np.histogram(t[[str(o) == label for o in outcomes]], bins=edges)
            ax.bar(edges[:-1], counts, width=bin_s * 0.9, align="edge", bottom=bottom,
                   color=COLORS[i % len(COLORS)], label=label)
            bottom += counts
        ax.grid(axis="x", visible=False)
        ax.set_ylim(0, max(bottom.max(), 1) * 1.3)  # headroom for the legend
        _finish(ax, title, "time since the first request (s)", f"{ylabel} ({bin_s * 1000:.0f} ms bins)")
        ax.legend(loc="upper right", ncols=len(labels))
    return fig


def timeline(panels: dict, title: str = "", xlabel: str = "time since the first request (ms)"):
    """One panel per run, one lane per client thread: a bar from each request's send to its answer.
    ``panels`` maps a label to spans from ``measure.timeline``; every panel shares the time axis."""
    n_lanes = {label: max((s["lane"] for s in spans), default=0) + 1 for label, spans in panels.items()}
    fig, axes = figure(nrows=len(panels), height=0.5 + 0.45 * len(panels) + 0.3 * sum(n_lanes.values()))
    axes = np.atleast_1d(axes)
    end = max((s["end_ms"] for spans in panels.values() for s in spans), default=1.0)
    with style():
        for ax, (label, spans) in zip(axes, panels.items()):
            for s in spans:
                color = COLORS[0] if s.get("ok", True) else COLORS[1]
                ax.broken_barh([(s["start_ms"], s["end_ms"] - s["start_ms"])], (s["lane"] - 0.35, 0.7),
                               facecolors=color, edgecolor="white", linewidth=0.8)
            ax.set_yticks(range(n_lanes[label]), [f"client {i + 1}" for i in range(n_lanes[label])])
            ax.set_ylim(n_lanes[label] - 0.5, -0.5)
            ax.set_xlim(0, end * 1.02)
            ax.grid(axis="y", visible=False)
            ax.set_title(label, loc="left", fontsize=10, fontweight="normal")
        for ax in axes[:-1]:
            ax.tick_params(labelbottom=False)
        axes[-1].set_xlabel(xlabel)
        if title:
            fig.suptitle(title, fontweight="bold", fontsize=11)
    return fig


def who_served(replica, lost, first=None, title: str = "", ax=None, event_at: int | None = None,
               event_label: str = "", n_replicas: int | None = None, lost_label: str = "failed"):
    """A grid with one row per client and one column per request (time runs left to right).

    The colour is the replica that answered (``replica[row][col]``, -1 for none); a white cross marks a
    request that failed (``lost[row][col]``). ``first`` (one replica per row) adds a "login" column;
    ``event_at`` draws a dashed line before that request column, labelled ``event_label``.
    """
    from matplotlib.colors import ListedColormap  # noqa: PLC0415
    from matplotlib.patches import Patch  # noqa: PLC0415

    grid = np.asarray(replica, dtype=float)
    bad = np.asarray(lost, dtype=bool)
    offset = 0
    if first is not None:
        grid = np.column_stack([np.asarray(first, dtype=float), grid])
        bad = np.column_stack([np.zeros(len(first), dtype=bool), bad])
        offset = 1
    k = int(n_replicas or (np.nanmax(grid) + 1 if grid.size else 1))
    cmap = ListedColormap(["#d1d5db"] + [COLORS[i % len(COLORS)] for i in range(k)])
    fig, ax = (ax.figure, ax) if ax is not None else figure(width=4.6, height=3.8)
    with style():
        ax.imshow(grid + 1, cmap=cmap, vmin=0, vmax=k, aspect="auto", interpolation="nearest")
        rows, cols = np.nonzero(bad)
        ax.scatter(cols, rows, marker="x", color="white", s=22, linewidths=1.6)
        ax.set_xticks(range(grid.shape[1]), (["login"] if offset else []) +
                      [str(i + 1) for i in range(grid.shape[1] - offset)], fontsize=8)
        ax.grid(False)
        ax.set_yticks(np.arange(-0.5, grid.shape[0], 1), minor=True)  # a thin line between clients
        ax.grid(which="minor", axis="y", color="white", linewidth=0.6)
        ax.tick_params(which="minor", left=False)
        if event_at is not None:
            x = event_at + offset - 0.5
            ax.axvline(x, color="black", linestyle="--", linewidth=1.2)
            if event_label:
                ax.annotate(event_label, (x, -0.6), ha="center", va="bottom", fontsize=8,
                            annotation_clip=False)
        ax.set_xlabel("request (time →)")
        ax.set_ylabel("user")
        ax.set_yticks([])
        handles = [Patch(color=COLORS[i % len(COLORS)], label=f"replica {i}") for i in range(k)]
        handles.append(plt.Line2D([], [], marker="x", color="black", linestyle="", label=lost_label))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
        if title:
            ax.set_title(title, pad=14 if event_label else 6)
    return fig


def grouped_bars(groups: dict, ylabel: str = "", title: str = "", ax=None, fmt: str | None = "{:.0f}",
                 logy: bool = False):
    """Side-by-side bars: ``{"round robin": {"gpu-0": 80, "gpu-1": 80}, "least conn": {...}}`` draws one
    cluster per outer key and one colour per inner key (e.g. requests per backend, per policy)."""
    fig, ax = (ax.figure, ax) if ax is not None else figure()
    with style():
        names = list(groups)
        series = list(dict.fromkeys(k for inner in groups.values() for k in inner))
        width = 0.8 / max(1, len(series))
        x = np.arange(len(names))
        for j, s in enumerate(series):
            heights = [groups[g].get(s, np.nan) for g in names]
            bars_ = ax.bar(x + (j - (len(series) - 1) / 2) * width, heights, width, label=str(s),
                           color=COLORS[j % len(COLORS)])
            if fmt:
                for b, h in zip(bars_, heights):
                    if np.isfinite(h):
                        ax.annotate(fmt.format(h), (b.get_x() + b.get_width() / 2, h), ha="center",
                                    va="bottom", fontsize=8)
        ax.set_xticks(x, names)
        ax.grid(axis="x", visible=False)
        if logy:
            ax.set_yscale("log")
        _finish(ax, title, "", ylabel)
    return fig


def plain_log_ticks(ax, axis: str = "both"):
    """Label log-scale axes with plain numbers (20, 50, 100) rather than powers of ten (2x10^1)."""
    from matplotlib.ticker import FuncFormatter, LogLocator  # noqa: PLC0415

    fmt = FuncFormatter(lambda v, _: f"{v:g}")
    for name in ("x", "y") if axis == "both" else (axis,):
        a = getattr(ax, f"{name}axis")
        if a.get_scale() != "log":
            continue
        a.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        a.set_major_formatter(fmt)
        a.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    return ax


def stacked_bars(bars_: dict, ylabel: str = "", title: str = "", ax=None, fmt: str | None = "{:.1f}"):
    """One bar per outer key, split into its parts: ``{"HTTPS": {"TCP connect": 0.1, "TLS handshake": 2.5,
    "request": 1.2}, ...}`` shows where the time of each variant goes. The total is written on top."""
    fig, ax = (ax.figure, ax) if ax is not None else figure()
    with style():
        names = list(bars_)
        parts = list(dict.fromkeys(k for inner in bars_.values() for k in inner))
        bottom = np.zeros(len(names))
        for j, part in enumerate(parts):
            heights = np.array([bars_[n].get(part, 0.0) for n in names], dtype=float)
            ax.bar(names, heights, bottom=bottom, label=str(part), color=COLORS[j % len(COLORS)], width=0.6)
            bottom += heights
        if fmt:
            for x, total in enumerate(bottom):
                ax.annotate(fmt.format(total), (x, total), ha="center", va="bottom", fontsize=9)
        ax.set_ylim(0, max(bottom.max(), 1e-9) * 1.18)
        ax.grid(axis="x", visible=False)
        _finish(ax, title, "", ylabel)
    return fig


def strip(groups: dict, ylabel: str = "", title: str = "", ax=None, logy: bool = False):
    """One column of dots per group (e.g. one dot per seeded run) with a black bar at the median:
    ``strip({"round robin": p99s, "least conn": p99s}, ylabel="p99 latency (ms)")``."""
    fig, ax = (ax.figure, ax) if ax is not None else figure()
    with style():
        for i, (label, values) in enumerate(groups.items()):
            v = np.asarray(values, dtype=float)
            ax.scatter(i + np.linspace(-0.2, 0.2, v.size), v, s=12, color=COLORS[i % len(COLORS)])
            ax.hlines(np.median(v), i - 0.3, i + 0.3, color="black")
        ax.set_xticks(range(len(groups)), list(groups))
        ax.grid(axis="x", visible=False)
        if logy:
            ax.set_yscale("log")
        _finish(ax, title, "", ylabel, legend=False)
    return fig
