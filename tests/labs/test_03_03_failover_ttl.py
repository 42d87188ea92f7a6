"""Lab 3.3: a backend dies; how long do caching clients keep hitting it, per TTL, live and simulated
(labs/03-dns/03-failover-ttl.ipynb)."""

LAB = "labs/03-dns/03-failover-ttl.ipynb"
LIVE_TTLS = ["1", "2", "4"]


def test_the_health_check_withdraws_the_dead_record_quickly(lab_results):
    """Seconds from SIGKILL to the record's withdrawal (checks every 0.25 s, 2 failures)."""
    assert 0 < lab_results(LAB)["detect_s"] < 2


def test_recovery_time_grows_with_ttl(lab_results):
    """Live: time from the crash to the last failed request, for TTLs of 1, 2 and 4 s."""
    r = lab_results(LAB)
    rec = r["time_to_recover_s_by_ttl"]
    times = [rec[t] for t in LIVE_TTLS]
    assert times == sorted(times) and times[-1] > times[0] + 1.0, rec
    for t in LIVE_TTLS:  # about detection + TTL: never much longer, and most of a TTL at least
        assert 0.4 * int(t) < rec[t] <= r["detect_s"] + int(t) + 1.0, (t, rec, r["detect_s"])


def test_clients_failed_during_the_window(lab_results):
    """Failed requests per TTL group: some for every TTL, more for longer TTLs."""
    failed = lab_results(LAB)["failed_requests_by_ttl"]
    assert all(failed[t] > 0 for t in LIVE_TTLS), failed
    assert failed["4"] > failed["1"], failed


def test_short_ttls_cost_dns_queries(lab_results):
    """DNS queries per second sent by each TTL group: about inversely proportional to the TTL."""
    q = lab_results(LAB)["dns_queries_per_s_by_ttl"]
    assert q["1"] > q["2"] > q["4"], q
    assert 2 < q["1"] / q["4"] < 8, q


def test_simulation_agrees_with_the_live_run(lab_results):
    """Simulated recovery times (median of 20 seeds, live run's parameters) rank the TTLs as the live
    run does, and the live times land within 1 s of the simulated range."""
    r = lab_results(LAB)
    live, sim = r["time_to_recover_s_by_ttl"], r["sim_live_setup_recover_s_by_ttl"]
    assert sorted(LIVE_TTLS, key=lambda t: live[t]) == sorted(LIVE_TTLS, key=lambda t: sim[t]) == LIVE_TTLS
    for t in LIVE_TTLS:
        lo, hi = r["sim_live_setup_range_s_by_ttl"][t]
        assert lo - 1.0 <= live[t] <= hi + 1.0, (t, live[t], lo, hi)


def test_long_ttls_keep_clients_on_a_dead_server_for_minutes(lab_results):
    """Simulated: last failed request after TTLs of 1 min, 5 min and 1 h; failures grow with the TTL."""
    r = lab_results(LAB)
    rec, failed = r["sim_time_to_recover_s_by_ttl"], r["sim_failed_requests_by_ttl"]
    for ttl in (60, 300, 3600):
        assert 0.8 * ttl < rec[str(ttl)] < ttl + 60, rec
    assert failed["60"] < failed["300"] < failed["3600"], failed
    assert rec["300"] > 2 * 60  # "some clients continue hitting the dead server for minutes"


def test_a_killed_process_fails_fast_and_a_vanished_host_hangs_for_the_timeout(lab_results):
    """Median duration of a failed request: a killed process is refused by the kernel at once; a
    blackholed host answers nothing, so each failure lasts the client's timeout (1 s and 0.25 s)."""
    o = lab_results(LAB)["failover_outcomes"]
    kill, slow, quick = o["kill"], o["host_gone_1s"], o["host_gone_025s"]
    assert kill["failed"] > 0 and slow["failed"] > 0 and quick["failed"] > 0, o
    assert kill["median_failed_ms"] < 100, o  # refused: no wait for the 1 s timeout
    assert slow["median_failed_ms"] > 10 * kill["median_failed_ms"], o
    assert 0.8 * 1000 < slow["median_failed_ms"] < 1.5 * 1000, o
    assert 0.8 * 250 < quick["median_failed_ms"] < 1.5 * 250 + 100, o


def test_a_shorter_timeout_fails_more_often_but_does_not_end_the_outage(lab_results):
    """With the dead address cached, a client retries it until its TTL runs out: a 4x shorter timeout
    gives more (and quicker) failures, and the last failure still ends about detection + TTL after."""
    o = lab_results(LAB)["failover_outcomes"]
    slow, quick = o["host_gone_1s"], o["host_gone_025s"]
    assert quick["failed"] > 1.5 * slow["failed"], o
    for case in (slow, quick):  # the outage outlasts the detection: the TTL (2 s) keeps it going
        assert case["recovered_after_s"] > case["detect_s"] + 0.5, o
        assert case["recovered_after_s"] < case["detect_s"] + 2 + 1.0 + 1.0, o  # + TTL + timeout + slack
    assert o["host_gone_1s"]["detect_s"] > 0 and o["host_gone_025s"]["detect_s"] > 0, o
