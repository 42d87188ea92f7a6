"""measure.cpu_timer, measure.timeline, run_load's send times with mean_in_flight, and the plots drawn from
them (plot.timeline, who_served)."""

import time

import matplotlib
import pytest

matplotlib.use("Agg")

from labsupport import measure, plot  # noqa: E402


def test_cpu_timer_sees_waiting_as_idle():
    """Sleeping 50 ms uses almost no CPU (idle > 80 %); computing uses CPU time, however long it waits."""
    with measure.cpu_timer() as waiting:
        time.sleep(0.05)
    assert waiting.wall_s >= 0.05 and waiting.cpu_s < 0.01 and waiting.idle_fraction > 0.8
    # The busy side calibrates itself: it computes until the OS has charged it 30 ms of CPU, however fast
    # the CPU is and however many other processes share it.
    with measure.cpu_timer() as busy:
        end = time.thread_time() + 0.03
        while time.thread_time() < end:
            sum(i * i for i in range(1000))
    assert busy.cpu_s >= 0.025 and busy.cpu_s > 5 * waiting.cpu_s


def test_timeline_lanes_and_overlap():
    """4 threads x 8 sleeps of 20 ms: several lanes, each span >= 20 ms, spans on different lanes overlap."""
    spans = measure.timeline(lambda i: time.sleep(0.02), n=8, concurrency=4)
    lanes = {s["lane"] for s in spans}
    assert len(spans) == 8 and 2 <= len(lanes) <= 4 and lanes == set(range(len(lanes)))
    assert all(s["ok"] and s["end_ms"] - s["start_ms"] >= 19 for s in spans)
    assert any(a["lane"] != b["lane"] and a["start_ms"] < b["end_ms"] and b["start_ms"] < a["end_ms"]
               for a in spans for b in spans)
    failing = measure.timeline(lambda i: 1 / 0, n=2)
    assert [s["ok"] for s in failing] == [False, False] and {s["lane"] for s in failing} == {0}


def test_mean_in_flight_counts_only_the_time_inside_the_window():
    """Two calls on "a" (0-10 ms, 5-15 ms) and one on "b" (0-20 ms), window 0-10 ms: a holds 10 + 5 ms, b 10."""
    held = measure.mean_in_flight([0, 5, 0], [10, 10, 20], ["a", "a", "b"], until_ms=10)
    assert held == {"a": 1.5, "b": 1.0}
    assert measure.mean_in_flight([0, 5, 0], [10, 10, 20], ["a", "a", "b"]) == {"a": 1.0, "b": 1.0}  # to 20 ms
    with pytest.raises(ValueError, match="until_ms"):
        measure.mean_in_flight([0], [10], ["a"], until_ms=0)


def test_closed_loop_keeps_every_client_busy_until_the_last_send():
    """run_load with 4 threads, 15 sleeps of 20 ms then one of 60 ms: until the last send about 4 calls are
    open at once; counting the drain after it (one thread still busy) lowers the average."""
    res = measure.run_load(lambda i: time.sleep(0.06 if i == 15 else 0.02), n=16, concurrency=4)
    assert len(res.start_ms) == len(res.latencies_ms) == 16 and min(res.start_ms) >= 0
    keys = ["all"] * 16
    busy = measure.mean_in_flight(res.start_ms, res.latencies_ms, keys, until_ms=max(res.start_ms))["all"]
    whole = measure.mean_in_flight(res.start_ms, res.latencies_ms, keys)["all"]
    assert 3.5 < busy <= 4.01 and whole < busy


def test_timeline_and_grid_plots_draw():
    """plot.timeline gives one panel per run; who_served adds a login column and marks failures."""
    spans = measure.timeline(lambda i: None, n=3)
    fig = plot.timeline({"a": spans, "b": spans})
    assert len(fig.axes) == 2 and fig.axes[-1].get_xlabel()
    fig = plot.who_served([[0, 1], [2, -1]], [[False, True], [False, True]], first=[0, 2],
                          event_at=1, event_label="kill")
    ax = fig.axes[0]
    assert ax.images[0].get_array().shape == (2, 3)
    assert len(ax.collections[0].get_offsets()) == 2  # two crosses
    plot.plain_log_ticks(ax)  # linear axes are left alone
