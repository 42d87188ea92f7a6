"""Lab 11.2: a circuit breaker in front of a hung feature store (labs/11-resilience/02-circuit-breaker.ipynb)."""

LAB = "labs/11-resilience/02-circuit-breaker.ipynb"


def test_without_a_breaker_every_request_waits_for_the_timeout(lab_results):
    """Median latency (1 s timeout) and share answered in < 100 ms, mid-pause, no breaker vs ours."""
    late = lab_results(LAB)["late_pause"]
    assert late["none"]["p50_ms"] >= 800, late["none"]
    assert late["none"]["under_100ms"] <= 0.1, late["none"]
    for m in ("ours", "purgatory"):
        assert late[m]["p50_ms"] < 0.2 * late["none"]["p50_ms"], (m, late[m])
        assert late[m]["under_100ms"] >= 0.6, (m, late[m])  # half-open trials still wait the timeout
        assert late[m]["fallback"] >= 0.7, (m, late[m])


def test_waiting_requests_pile_up_without_a_breaker(lab_results):
    """Mean requests in flight on each server while the store hangs (30 req/s x 1 s timeout = 30 by Little's law)."""
    late = lab_results(LAB)["late_pause"]
    assert late["none"]["in_flight_mean"] > 20, late
    assert late["none"]["in_flight_mean"] > 1.8 * late["ours"]["in_flight_mean"], late


def test_breakers_go_closed_open_half_open_closed(lab_results):
    """The logged transitions of our breaker and purgatory's over the pause and the recovery."""
    r = lab_results(LAB)
    for m in ("ours", "purgatory"):
        states = r[f"breaker_states_{m}"]
        assert states[:3] == ["closed", "open", "half_open"] and states[-1] == "closed", (m, states)
    assert r["closed_after_resume_s"] is not None and r["closed_after_resume_s"] < 2.5


def test_pybreaker_serialises_sync_calls_and_ignores_async_failures(lab_results):
    """8 threads x 0.2 s, direct vs through pybreaker; its state after 10 failing async calls (fail_max 3)."""
    r = lab_results(LAB)
    assert r["pybreaker_8_threads_s_breaker"] > 4 * r["pybreaker_8_threads_s_direct"], r
    assert r["pybreaker_async_state_after_10_failures"] == "closed"
