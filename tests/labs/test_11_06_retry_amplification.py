"""Lab 11.6: retries multiply across three real retrying layers; timeouts, the edge, deadlines, a budget
(labs/11-resilience/06-retry-amplification.ipynb)."""

LAB = "labs/11-resilience/06-retry-amplification.ipynb"
N_FLAKY = 50


def test_a_503_at_the_bottom_costs_the_identity_3_x_3_x_3(lab_results):
    """Store calls per user request with a 503 at the bottom: an identity (every layer spends its tries),
    checked so that a broken chain (a layer that stops retrying, a lost request id) shows up."""
    r = lab_results(LAB)
    assert r["identity_per_request_every_layer"] == 27
    assert r["identity_per_request_edge_only"] == 3


def test_timeouts_do_not_stop_the_orphaned_retries(lab_results):
    """Store hung, 300 ms timeouts, users give up at 1 s: the layers below keep retrying for nobody."""
    r = lab_results(LAB)
    assert r["hang_same_per_request"] >= 20, r["hang_same_per_request"]  # not cut short by the timeouts
    assert r["hang_same_after_gave_up"] >= 5, r["hang_same_after_gave_up"]  # paper count: 10 of 27
    assert r["hang_nested_per_request"] >= 20 and r["hang_nested_after_gave_up"] >= 10
    assert r["hang_nested_last_call_s"] > 2 * 1.0  # long after the users' 1 s deadline


def test_retrying_at_the_edge_or_passing_the_deadline_down_stops_the_waste(lab_results):
    """Calls per request and calls after the user gave up, edge-only retries and deadlines vs the default."""
    r = lab_results(LAB)
    assert r["hang_edge_per_request"] <= 4 and r["hang_edge_after_gave_up"] <= 1
    # each hop turns "time left" into its own deadline on arrival, so a few calls land just after the user left
    assert r["hang_deadline_after_gave_up"] < 0.5 * r["hang_same_after_gave_up"], r
    assert r["hang_deadline_late_max_s"] < 0.3 < 0.5 < r["hang_same_late_max_s"], r
    assert r["hang_deadline_per_request"] < 0.8 * r["hang_same_per_request"]


def test_a_retry_budget_caps_an_outage_and_costs_nothing_when_failures_are_rare(lab_results):
    """Budget of 10% + 2 per process: store calls per request in a total outage, successes at 5% errors."""
    r = lab_results(LAB)
    assert r["budget_outage_per_request"] < 27 / 5, r["budget_outage_per_request"]
    assert r["budget_outage_denied"] > 0
    ok = r["flaky_ok"]
    assert ok["3 tries + budget"] >= 0.96 * N_FLAKY, ok
    assert ok["3 tries + budget"] > ok["no retries"] and ok["3 tries + budget"] >= ok["3 tries per layer"] - 2, ok
    assert r["flaky_per_request_budget"] < 1.3
