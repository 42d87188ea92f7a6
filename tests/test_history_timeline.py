"""labsupport.history.timeline: one lane per client, outcomes drawn apart, violating ops outlined in red."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from labsupport.history import (  # noqa: E402
    History, inject_stale_read, linearizable, random_register_history, stale_reads, timeline)


def outlined(ax) -> set[int]:
    """Op indices drawn with a red outline."""
    return {int(p.get_gid().split()[1]) for p in ax.patches
            if (p.get_gid() or "").startswith("violation") and to_hex(p.get_edgecolor()) == "#dc2626"}


def test_lanes_outcomes_and_marked_violation():
    h = History()
    h.add("c1", "write", "x", 1, 0, 5)
    h.add("c1", "write", "x", 2, 6, 10)
    h.add("c2", "write", "x", 3, 1, 3, "fail")
    h.add("c3", "write", "x", 4, 2, 4, "unknown")
    h.add("c10", "read", "x", 1, 12, 13)
    r = linearizable(h)
    assert not r.ok
    fig = timeline(h, r, title="a stale read")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c1", "c2", "c3", "c10"]   # one lane per client
    assert outlined(ax) == r.bad_ops() == {4, 1, 0}
    groups = {c.get_gid(): len(c.get_paths()) for c in ax.collections}
    assert groups == {"ok": 3, "fail": 1, "unknown": 1}
    unknown = next(c for c in ax.collections if c.get_gid() == "unknown")
    assert unknown.get_hatch() == "//"
    assert any((ln.get_gid() or "").startswith("unknown tail 3") for ln in ax.lines)   # open-ended
    assert "read x -> 1" in {t.get_text() for t in ax.texts} and "(ms)" in ax.get_xlabel()
    assert len(timeline(h).axes[0].patches) == 0         # no checker, nothing outlined
    plt.close("all")


def test_focus_zooms_on_the_violation_of_a_long_history():
    """3000 ops: focus=True shows a window around the injected stale read, outlined, with fewer ops drawn."""
    h = random_register_history(n_ops=3000, clients=5, seed=5)
    bad = inject_stale_read(h, seed=2)
    r = stale_reads(h)
    assert not r.ok and r.violations[0].ops[0] is bad
    full = timeline(h, r).axes[0]
    ax = timeline(h, r, focus=True).axes[0]
    lo, hi = ax.get_xlim()
    assert lo <= bad.invoke_ms and bad.complete_ms <= hi
    assert hi - lo < 0.2 * (full.get_xlim()[1] - full.get_xlim()[0])
    assert bad.index in outlined(ax)
    drawn = sum(len(c.get_paths()) for c in ax.collections)
    assert drawn < 0.2 * sum(len(c.get_paths()) for c in full.collections)
    assert bad.label() in {t.get_text() for t in ax.texts}          # named ops keep their label when zoomed
    plt.close("all")
