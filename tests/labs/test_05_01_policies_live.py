"""Lab 5.1: balancing policies on real nginx with an uneven LLM-style workload, then a crash and a hang."""

LAB = "labs/05-load-balancing/01-policies-live.ipynb"


def test_least_conn_beats_round_robin_at_p99(lab_results):
    """Measured p99 over 240 requests (10 or 1000 tokens): least_conn below round robin, by a clear margin."""
    p99 = lab_results(LAB)["p99_ms_by_policy"]
    assert p99["least_conn"] < p99["round_robin"]
    assert p99["round_robin"] / p99["least_conn"] > 1.2


def test_least_conn_tail_near_the_floor(lab_results):
    """Least_conn's p99 stays within 1.6x of a long request's time alone on a lane (no pile-up)."""
    r = lab_results(LAB)
    assert r["p99_ms_by_policy"]["least_conn"] < 1.6 * r["long_request_ms"]


def test_weights_give_the_big_gpu_twice_the_requests(lab_results):
    """Requests served by the 80 GB replica over a 40 GB one: 2.0 with weights 2:1:1, 1.0 with round robin."""
    r = lab_results(LAB)
    assert abs(r["weighted_share_ratio"] - 2.0) < 0.1
    assert abs(r["round_robin_share_ratio"] - 1.0) < 0.1


def test_least_conn_keeps_in_flight_in_proportion_to_weight(lab_results):
    """least_conn with weights 2:1:1 and 8 clients holds about 4:2:2 in flight, time-averaged up to the
    last send (after it the clients drain and the last long requests sit alone on whichever replica got
    them). Measured 1.93-2.00 over 10 runs of the lab alone (round robin 0.66-1.37); averaged over the
    drain too it was 1.83-2.32. The request counts vary run to run and are not asserted.
    3:1:1 weights would aim at 3, no weights at 1."""
    r = lab_results(LAB)
    assert 1.7 < r["least_conn_inflight_ratio"] < 2.3
    assert r["least_conn_inflight_ratio"] > r["round_robin_inflight_ratio"] + 0.3


def test_retries_hide_a_crashed_backend(lab_results):
    """60 requests, one of 3 backends killed: about a third fail with retries off, none with retries on."""
    r = lab_results(LAB)
    assert r["errors_retries_on"] == 0
    assert 10 <= r["errors_retries_off"] <= 30


def test_retries_cannot_replay_a_post_to_a_hung_backend(lab_results):
    """With one backend paused (a hang), some POSTs still fail with retries on: nginx will not resend them."""
    assert lab_results(LAB)["errors_hang_retries_on"] > 0


def test_simulation_agrees_least_conn_beats_round_robin(lab_results):
    """The simpy model of the same workload ranks least_conn ahead of round robin, like the live run."""
    r = lab_results(LAB)
    for order in (r["live_policy_order"], r["sim_policy_order"]):
        assert order.index("least_conn") < order.index("round_robin")
    assert r["sim_policy_order"][0] == "least_conn"


def test_hash_keeps_each_user_on_one_replica(lab_results):
    """Hashing on X-User: every one of 30 users served by a single replica; round robin scatters them."""
    r = lab_results(LAB)
    assert r["sticky_users_hash"] == 1.0
    assert r["sticky_users_round_robin"] < 0.5
