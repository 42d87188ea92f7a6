"""Lab 6.5: Redis data types, each doing a real job, measured on a real server."""

LAB = "labs/06-caching/05-redis-data-types.ipynb"


def test_pipelining_saves_round_trips(lab_results):
    """Writes/s with and without a pipeline, on loopback and over a link that adds 1 ms per round trip."""
    r = lab_results(LAB)
    assert r["pipeline_speedup_1ms_rtt"] > 5, r["writes_per_s"]
    assert r["pipeline_speedup_loopback"] > 1, r["writes_per_s"]
    assert r["pipeline_speedup_1ms_rtt"] > r["pipeline_speedup_loopback"], "round trips should matter more on a slower link"


def test_a_key_per_feature_costs_more_memory_than_a_hash(lab_results):
    """Server memory per user for 17 features stored as a hash, a JSON string, or one key each."""
    mem = lab_results(LAB)["memory_bytes_per_user"]
    assert mem["key per feature"] > 1.5 * mem["hash per user"], mem


def test_sorted_set_top_k_is_exact(lab_results):
    """ZREVRANGE's top 10 after 20,000 ZINCRBYs, compared with an exact count in Python."""
    assert lab_results(LAB)["topk_correct"] == 1


def test_list_queue_loses_the_job_a_crashed_worker_held(lab_results):
    """300 jobs, three BRPOP workers, one dies holding a job: lost and duplicated jobs."""
    r = lab_results(LAB)
    assert r["queue_list_jobs_lost"] == 1
    assert r["queue_list_duplicates"] == 0


def test_stream_consumer_group_delivers_at_least_once(lab_results):
    """300 events; consumer A processes 20 and crashes before XACK. A claim with a 1 s idle threshold
    right away takes nothing; after the threshold B claims A's 20: none lost, exactly those 20 done twice."""
    r = lab_results(LAB)
    assert r["stream_events"] == 300, "the log keeps every event after processing"
    assert r["stream_claimed_too_early"] == 0, "an idle threshold must not steal work a live consumer may hold"
    assert r["stream_reclaimed"] == 20
    assert r["stream_jobs_lost"] == 0
    assert r["stream_processed_twice"] == r["stream_reclaimed"], "at least once: redelivered work is redone"


def test_set_counts_exactly_and_hyperloglog_approximately(lab_results):
    """Unique users among 40,000 impressions: SCARD vs the truth, PFCOUNT's error, and their memory."""
    r = lab_results(LAB)
    assert r["unique_users_set"] == r["unique_users_true"]
    assert abs(r["unique_users_hll"] - r["unique_users_true"]) / r["unique_users_true"] < 0.03
    mem = r["memory_bytes_set_vs_hll"]
    assert mem["set"] > 10 * mem["HyperLogLog"], mem
