"""The "How the labs run clusters" page (book/how-clusters-work.ipynb): a partition a reader can see."""

PAGE = "book/how-clusters-work.ipynb"


def test_replication_bytes_really_pass_through_the_relay(lab_results):
    """The WAL the standby replayed was counted by the relay on the primary -> standby1 link."""
    assert lab_results(PAGE)["tour_wal_bytes_via_relay"] > 10_000


def test_a_partitioned_async_standby_serves_stale_reads_and_the_checker_says_so(lab_results):
    """While cut off, the standby kept answering with an old x: many versions behind, not linearizable."""
    r = lab_results(PAGE)
    assert r["tour_linearizable"] is False
    assert r["tour_stale_reads"] >= 5
    # a 1.5 s cut with a write every ~20 ms: the worst read misses dozens of writes, far more than
    # the one or two a healthy asynchronous standby lags by
    assert r["tour_max_versions_behind"] >= 10
    assert r["tour_writes_acked"] > r["tour_max_versions_behind"]
