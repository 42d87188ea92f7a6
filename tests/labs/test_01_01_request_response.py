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
