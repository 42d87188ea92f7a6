"""Lab 7.2: isolation levels, lost updates and write skew (labs/07-databases/02-isolation.ipynb)."""

LAB = "labs/07-databases/02-isolation.ipynb"
FIXES = ["atomic UPDATE", "SELECT FOR UPDATE", "repeatable read + retry", "serializable + retry"]


def test_read_modify_write_loses_updates(lab_results):
    """8 clients x 15 increments, SELECT then UPDATE under READ COMMITTED: committed increments that vanished."""
    r = lab_results(LAB)
    assert r["lost_updates"]["read-modify-write"] > 0.1 * r["increments_attempted"], r["lost_updates"]


def test_every_fix_loses_nothing(lab_results):
    """Atomic UPDATE, FOR UPDATE, and both snapshot levels with retries: zero lost updates."""
    lost = lab_results(LAB)["lost_updates"]
    assert all(lost[m] == 0 for m in FIXES), lost


def test_snapshot_levels_work_by_aborting_and_retrying(lab_results):
    """Serialization failures caught and retried under REPEATABLE READ and SERIALIZABLE; none under locks."""
    f = lab_results(LAB)["serialization_failures"]
    assert f["repeatable read + retry"] > 0 and f["serializable + retry"] > 0, f
    assert f["atomic UPDATE"] == f["SELECT FOR UPDATE"] == 0, f


def test_atomic_update_outruns_locking_read(lab_results):
    """Committed increments per second: the one-statement update holds the row lock for less time."""
    per_s = lab_results(LAB)["commits_per_s"]
    assert per_s["atomic UPDATE"] > per_s["SELECT FOR UPDATE"], per_s


def test_write_skew_passes_repeatable_read_and_stops_at_serializable(lab_results):
    """GPU quota (8) broken by two concurrent bookings, per isolation level."""
    r = lab_results(LAB)
    v, f = r["write_skew_violations"], r["write_skew_failures"]
    assert v["read committed"] > 0 and v["repeatable read"] > 0, v
    assert v["serializable"] == 0 and f["serializable"] > 0, (v, f)
    assert v["serializable + retry"] == 0, v
