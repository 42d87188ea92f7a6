"""Graders of chapter 7 labs 1-3 (labsupport/exercises/databases.py): right answers pass, typical wrong ones
get feedback that says what went wrong; the build-it grader runs right and broken solutions on a real
PostgreSQL."""

from buildit import defined
from grading import ok, wrong
from labsupport.check import get


def test_every_grader_is_registered():
    """All nine ids of labs 1-3 resolve to a grader."""
    for ex in ["partial-after-kill", "one-production", "async-commit-ok", "lost-update-count", "skew-level",
               "build-gpu-quota", "btree-depth", "composite-usable", "index-storage"]:
        assert callable(get(f"db.{ex}"))


def test_partial_after_kill():
    """Only the transfer in flight can be half done: 1."""
    ok("db.partial-after-kill", 1)
    wrong("db.partial-after-kill", 0, "transaction")
    wrong("db.partial-after-kill", 1000, "in flight")


def test_one_production():
    """A partial unique index; UNIQUE (model, stage), CHECK and FK each explained."""
    ok("db.one-production", "b")
    wrong("db.one-production", "a", "archived")
    wrong("db.one-production", "c", "one row")
    wrong("db.one-production", "d", "exist")
    wrong("db.one-production", "x", "choose one of")


def test_async_commit_ok():
    """Click logs and a rebuildable feature table can; payments and promotions cannot."""
    ok("db.async-commit-ok", ["b", "d"])
    ok("db.async-commit-ok", "d, b")
    wrong("db.async-commit-ok", ["a", "b", "d"], "payment")
    wrong("db.async-commit-ok", ["b", "c", "d"], "promotion")
    wrong("db.async-commit-ok", ["b"], "missing")


def test_lost_update_count():
    """Both write 11."""
    ok("db.lost-update-count", 11)
    wrong("db.lost-update-count", 12, "overwrites")
    wrong("db.lost-update-count", 10, "low")


def test_skew_level():
    """Only SERIALIZABLE stops write skew in PostgreSQL."""
    ok("db.skew-level", "Serializable")
    wrong("db.skew-level", "repeatable read", "different rows")
    wrong("db.skew-level", "read committed", "old total")


def test_btree_depth():
    """300^4 > 10^9 > 300^3: four levels; a binary tree's 30 and three levels are explained."""
    ok("db.btree-depth", 4)
    wrong("db.btree-depth", 3, "27 million")
    wrong("db.btree-depth", 30, "binary")
    wrong("db.btree-depth", 3333334, "fan-out")


def test_composite_usable():
    """Leading-prefix queries a, b, d; c and e skip the leading column."""
    ok("db.composite-usable", ["a", "b", "d"])
    wrong("db.composite-usable", ["a", "b", "c", "d"], "leading column")
    wrong("db.composite-usable", ["a", "b"], "missing")


def test_index_storage():
    """2 GB + 3 x 0.4 GB = 3.2 GB."""
    ok("db.index-storage", 3.2)
    wrong("db.index-storage", 2.4, "one index")
    wrong("db.index-storage", 1.2, "table")


# -- build-it: a GPU quota that holds under concurrency (lab 2), graded on a real PostgreSQL -------
QUOTA_SERIALIZABLE = '''
import psycopg

def book_gpus(conn, team, gpus, quota):
    while True:
        try:
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                used = conn.execute("SELECT coalesce(sum(gpus), 0) FROM gpu_bookings").fetchone()[0]
                if used + gpus > quota:
                    return False
                conn.execute("INSERT INTO gpu_bookings (team, gpus) VALUES (%s, %s)", (team, gpus))
            return True
        except psycopg.errors.SerializationFailure:
            continue
'''

QUOTA_LOCK_TABLE = '''
def book_gpus(conn, team, gpus, quota):
    with conn.transaction():
        conn.execute("LOCK TABLE gpu_bookings IN SHARE ROW EXCLUSIVE MODE")
        cur = conn.cursor()
        cur.execute("SELECT coalesce(sum(gpus), 0) FROM gpu_bookings")
        if cur.fetchone()[0] + gpus > quota:
            return False
        cur.execute("INSERT INTO gpu_bookings (team, gpus) VALUES (%s, %s)", (team, gpus))
    return True
'''

QUOTA_NAIVE = '''
def book_gpus(conn, team, gpus, quota):
    with conn.transaction():
        used = conn.execute("SELECT coalesce(sum(gpus), 0) FROM gpu_bookings").fetchone()[0]
        if used + gpus > quota:
            return False
        conn.execute("INSERT INTO gpu_bookings (team, gpus) VALUES (%s, %s)", (team, gpus))
    return True
'''

QUOTA_REPEATABLE_READ = QUOTA_SERIALIZABLE.replace("SERIALIZABLE", "REPEATABLE READ")

QUOTA_NO_RETRY = '''
def book_gpus(conn, team, gpus, quota):
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        used = conn.execute("SELECT coalesce(sum(gpus), 0) FROM gpu_bookings").fetchone()[0]
        if used + gpus > quota:
            return False
        conn.execute("INSERT INTO gpu_bookings (team, gpus) VALUES (%s, %s)", (team, gpus))
    return True
'''

QUOTA_REFUSE_ON_FAILURE = '''
import psycopg

def book_gpus(conn, team, gpus, quota):
    try:
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
            used = conn.execute("SELECT coalesce(sum(gpus), 0) FROM gpu_bookings").fetchone()[0]
            if used + gpus > quota:
                return False
            conn.execute("INSERT INTO gpu_bookings (team, gpus) VALUES (%s, %s)", (team, gpus))
        return True
    except psycopg.errors.SerializationFailure:
        return False
'''

QUOTA_ROW_LOCKS = '''
def book_gpus(conn, team, gpus, quota):
    with conn.transaction():
        rows = conn.execute("SELECT gpus FROM gpu_bookings FOR UPDATE").fetchall()
        if sum(g for (g,) in rows) + gpus > quota:
            return False
        conn.execute("INSERT INTO gpu_bookings (team, gpus) VALUES (%s, %s)", (team, gpus))
    return True
'''

QUOTA_NO_CHECK = '''
def book_gpus(conn, team, gpus, quota):
    conn.execute("INSERT INTO gpu_bookings (team, gpus) VALUES (%s, %s)", (team, gpus))
    return True
'''


def _book(source: str):
    return defined(source, "book_gpus")


def test_gpu_quota_serializable_with_retry_is_right():
    """SERIALIZABLE + retry: never over quota with four teams at once, every fitting request booked."""
    ok("db.build-gpu-quota", _book(QUOTA_SERIALIZABLE))


def test_gpu_quota_table_lock_is_right():
    """A table lock taken before reading (cursor API): also right."""
    ok("db.build-gpu-quota", _book(QUOTA_LOCK_TABLE))


def test_gpu_quota_read_committed_overbooks():
    """Read the total, then insert, under READ COMMITTED: write skew, over quota."""
    wrong("db.build-gpu-quota", _book(QUOTA_NAIVE), "write skew", "serializable")


def test_gpu_quota_repeatable_read_still_overbooks():
    """REPEATABLE READ snapshots do not stop write skew: the grader catches it."""
    wrong("db.build-gpu-quota", _book(QUOTA_REPEATABLE_READ), "write skew")


def test_gpu_quota_row_locks_miss_the_phantom():
    """FOR UPDATE on the existing rows locks nothing in a round that starts empty."""
    wrong("db.build-gpu-quota", _book(QUOTA_ROW_LOCKS), "phantom")


def test_gpu_quota_without_retry_leaks_serialization_failures():
    """SERIALIZABLE without a retry: the failure escapes to the caller."""
    wrong("db.build-gpu-quota", _book(QUOTA_NO_RETRY), "SerializationFailure", "retry")


def test_gpu_quota_refusing_on_failure_wastes_capacity():
    """Turning a serialization failure into False refuses requests that fit."""
    wrong("db.build-gpu-quota", _book(QUOTA_REFUSE_ON_FAILURE), "retried")


def test_gpu_quota_without_a_check_is_caught_alone():
    """No quota check at all: caught by the one-caller scenario."""
    wrong("db.build-gpu-quota", _book(QUOTA_NO_CHECK), "return false")


def test_gpu_quota_skeleton_is_not_written_yet():
    """The notebook's skeleton raises NotImplementedError: not written, not wrong."""
    def book_gpus(conn, team, gpus, quota):
        raise NotImplementedError
    wrong("db.build-gpu-quota", book_gpus, "not written yet")


def test_gpu_quota_graded_inside_the_real_notebook():
    """testbook: the right solution and the naive one, injected into lab 2's build-it cell."""
    from buildit import inject_solutions

    verdicts = inject_solutions("labs/07-databases/02-isolation.ipynb", "db.build-gpu-quota",
                                {"right": QUOTA_SERIALIZABLE, "naive": QUOTA_NAIVE})
    assert verdicts["right"].ok, verdicts["right"].message
    assert not verdicts["naive"].ok and "write skew" in verdicts["naive"].message
