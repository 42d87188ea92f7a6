"""Lab 01-01, request and response: a synchronous client mostly waits; concurrency fills the wait
until a resource (here the shared CPU) is full, and then only adds latency."""

LAB = "labs/01-client-server/01-request-response.ipynb"


def test_client_is_idle_while_it_waits(lab_results):
    """Client CPU time vs wall time over back-to-back /predict calls: the client is idle most of the time."""
    r = lab_results(LAB)
    assert r["client_idle_fraction"] > 0.5


def test_concurrency_multiplies_throughput_when_the_server_waits(lab_results):
    """/generate (waits 20 ms per request), 1 to 32 clients: best throughput is a clear multiple of one."""
    r = lab_results(LAB)
    assert r["rps_best_waiting"] > 2.5 * r["rps_sequential_waiting"]


def test_compute_bound_throughput_saturates(lab_results):
    """/predict (numpy MLP), 4 to 32 clients: throughput stops growing while median latency keeps growing."""
    r = lab_results(LAB)
    rps, p50 = r["rps_by_concurrency"], r["p50_ms_by_concurrency"]
    assert rps["32"] < 1.5 * max(rps["4"], rps["8"], rps["16"]), rps
    assert p50["32"] > 2 * p50["4"], p50
    assert r["rps_best"] >= r["rps_sequential"]


def test_server_interleaves_requests(lab_results):
    """The server's own /stats during the sweep: it held many requests at once, not one at a time."""
    assert lab_results(LAB)["server_max_in_flight"] >= 8


def test_batching_gpu_saturates_at_its_batch_ceiling(lab_results):
    """/infer (one modelled GPU, BATCH_MAX per step) vs /wait (the same time per request as a plain
    sleep), 1 to 32 clients: the real server and clients reach the model's ceiling BATCH_MAX/step,
    run full batches there, and stop; the unlimited sleep goes on past it; the knee sits near BATCH_MAX."""
    r = lab_results(LAB)
    rps, p50, batch = r["gpu_rps_by_concurrency"], r["gpu_p50_ms_by_concurrency"], r["gpu_mean_batch_by_concurrency"]
    assert 0.6 < r["gpu_saturation_vs_ceiling"] < 1.05, r["gpu_saturation_vs_ceiling"]  # reached, never beaten
    assert rps["32"] < 1.3 * rps["8"], rps  # flat past the batch
    assert rps["4"] > 2 * rps["1"], rps  # but batching did multiply it up to there
    assert batch["32"] > 0.8 * r["gpu_batch_max"] and batch["1"] < 1.5, batch
    assert p50["32"] > 3 * p50["1"], p50  # the queue for a slot
    assert r["wait_rps_best"] > 1.5 * r["gpu_rps_best"], (r["wait_rps_best"], r["gpu_rps_best"])
    assert r["gpu_knee_clients"] <= 2 * r["gpu_batch_max"], r["gpu_knee_clients"]


def test_littles_law_holds_open_loop(lab_results):
    """Poisson arrivals at 30 % and 60 % of the GPU model's ceiling: the server's time-averaged in-flight
    gauge L matches the client's arrival rate x mean latency (a little lower: the gauge does not see the
    time spent in the client and in HTTP parsing), at both rates."""
    r = lab_results(LAB)
    assert 0.7 < r["littles_law_ratio_min"] <= r["littles_law_ratio_max"] < 1.15, r["littles_law_open_loop"]
    assert all(row["failed"] == 0 for row in r["littles_law_open_loop"].values()), r["littles_law_open_loop"]
