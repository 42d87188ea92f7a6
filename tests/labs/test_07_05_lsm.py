"""Lab 7.5: an event log in RocksDB (LSM tree) vs a PostgreSQL B-tree (labs/07-databases/05-lsm.ipynb)."""

LAB = "labs/07-databases/05-lsm.ipynb"


def test_compaction_rewrites_data_so_write_amplification_exceeds_one(lab_results):
    """RocksDB's own tickers: (flush + compaction bytes) / bytes the application wrote, device-first keys."""
    r = lab_results(LAB)
    assert r["write_amp_device_first"] > 1.5, r
    assert r["rocks_compaction_mb"] > 0 and r["compactions_device_first"] > 0
    assert r["levels_used"] >= 2, "data went past level 0"


def test_time_ordered_keys_compact_more_cheaply(lab_results):
    """Keys in arrival order do not overlap older files, so compaction rewrites much less."""
    r = lab_results(LAB)
    assert r["write_amp_time_first"] < r["write_amp_device_first"] - 0.5, r


def test_level_zero_fills_and_is_compacted(lab_results):
    """The L0 file count rose with flushes, and compaction kept it bounded (trigger 4 files)."""
    r = lab_results(LAB)
    assert 2 <= r["l0_files_max"] <= 20, r


def test_range_scans_return_the_same_events_in_both_engines(lab_results):
    """One device, a 30 s window: RocksDB seek + scan equals PostgreSQL's index range scan."""
    r = lab_results(LAB)
    assert r["range_results_equal"] == 1
    assert r["range_events_mean"] > 5, "the windows hold events"


def test_postgres_wal_alone_already_exceeds_the_data(lab_results):
    """WAL bytes (insert-position distance) per byte of application data: a B-tree writes more than once too."""
    assert lab_results(LAB)["pg_wal_per_user_byte"] > 1
