"""Graders for chapter 7, Databases, part one: ACID and indexing (labs/07-databases/01-03).

The reasoning behind each answer is in the lab's dropdown solution. The build-it grader
(``db.build-gpu-quota``) runs the learner's function against a real PostgreSQL it starts itself."""

from __future__ import annotations

import math

from ..check import Feedback, close_to, grader, one_of, same_set


def _letters(answer) -> set[str]:
    if isinstance(answer, str):
        answer = answer.replace(",", " ").split()
    return {str(x).strip().lower() for x in answer}


# -- lab 1: atomicity, consistency, durability -----------------------------------------------------
@grader("db.partial-after-kill")
def partial_after_kill(answer) -> Feedback:
    """Autocommit transfers (two UPDATEs each), client SIGKILLed once: the most partial transfers left."""
    value = float(answer)
    if math.isclose(value, 0):
        return Feedback(False, "In autocommit mode each UPDATE commits on its own, so a kill between the two "
                               "statements leaves the debit without its credit. Zero needs a transaction.")
    if value > 1:
        return Feedback(False, "Every transfer before the kill finished both of its statements; only the one "
                               "in flight when the client died can be half done.")
    return close_to(value, 1, rel=0.01, unit=" transfer")


@grader("db.one-production")
def one_production(answer) -> Feedback:
    """The constraint that allows at most one production version per model."""
    return one_of(answer, "b", {
        "a": "UNIQUE (model, stage) allows one production version, but also only one archived and one staging "
             "version per model: the second archived version would be rejected.",
        "b": "Right: a partial unique index only indexes the rows WHERE stage = 'production', so it forbids a "
             "second production version and leaves the other stages alone.",
        "c": "A CHECK constraint looks at one row at a time; it cannot see the other versions of the model.",
        "d": "A foreign key says the model must exist; it says nothing about how many versions are in production.",
    })


@grader("db.async-commit-ok")
def async_commit_ok(answer) -> Feedback:
    """Which writes could use synchronous_commit = off (losing the last fraction of a second on a crash)."""
    got = _letters(answer)
    fb = same_set(got, {"b", "d"}, name="workloads")
    if fb.ok:
        return Feedback(True, "Right: b and d. Click logs and a feature table rebuilt from the offline store "
                              "can lose their last few hundred milliseconds; payments and promotions cannot.")
    if "a" in got:
        return Feedback(False, "A payment the user was told succeeded must not vanish after a crash: keep "
                               "synchronous_commit on for payments.")
    if "c" in got:
        return Feedback(False, "A promotion the deploy tool saw succeed, then lost, would silently roll serving "
                               "back to the old model: registry writes stay synchronous.")
    return Feedback(False, fb.message + " Which of these can be recomputed or tolerate a small gap?")


# -- lab 2: isolation ------------------------------------------------------------------------------
@grader("db.lost-update-count")
def lost_update_count(answer) -> Feedback:
    """Two clients both read 10, both write their value + 1: the counter afterwards."""
    value = float(answer)
    if math.isclose(value, 12):
        return Feedback(False, "Each client writes the value it read plus one: both write 11. The second "
                               "write overwrites the first, so one increment is lost.")
    return close_to(value, 11, rel=0.001)


@grader("db.skew-level")
def skew_level(answer) -> Feedback:
    """The weakest PostgreSQL isolation level that prevents write skew."""
    return one_of(answer, "serializable", {
        "read committed": "Under READ COMMITTED both teams read the old total and both book: the quota is broken.",
        "repeatable read": "REPEATABLE READ gives each transaction a snapshot and stops lost updates to the same "
                           "row, but the two teams insert different rows, so nothing conflicts: write skew "
                           "goes through (the lab measured it).",
        "serializable": "Right: SERIALIZABLE tracks what each transaction read and aborts one of the two with a "
                        "serialization failure; the application retries it and then sees the quota is used.",
    })


class _SlowCursor:
    """A cursor whose every statement takes ``delay_s`` longer, so races show up every time."""

    def __init__(self, cur, delay_s):
        object.__setattr__(self, "_cur", cur)
        object.__setattr__(self, "_delay", delay_s)

    def execute(self, *args, **kw):
        import time  # noqa: PLC0415

        out = self._cur.execute(*args, **kw)
        time.sleep(self._delay)
        return self if out is self._cur else out

    def __enter__(self):
        self._cur.__enter__()
        return self

    def __exit__(self, *exc):
        return self._cur.__exit__(*exc)

    def __iter__(self):
        return iter(self._cur)

    def __getattr__(self, name):
        return getattr(self._cur, name)


class _SlowConnection(_SlowCursor):
    """A psycopg connection (autocommit on) whose statements are slowed the same way."""

    def __init__(self, conn, delay_s):
        super().__init__(conn, delay_s)

    def execute(self, *args, **kw):
        import time  # noqa: PLC0415

        out = self._cur.execute(*args, **kw)
        time.sleep(self._delay)
        return out

    def cursor(self, *args, **kw):
        return _SlowCursor(self._cur.cursor(*args, **kw), self._delay)

    def __setattr__(self, name, value):
        setattr(self._cur, name, value)


_QUOTA = 8
_ROUNDS = [0, 2, 2, 0, 2, 2]   # GPUs already booked at the start of each concurrent round
_ASKERS = 4                     # teams asking for 3 GPUs at the same moment
_DELAY_S = 0.005


def _round(srv, book_gpus, already: int):
    """One concurrent round: ``_ASKERS`` threads ask for 3 GPUs each; returns (total, answers, errors)."""
    import threading  # noqa: PLC0415

    import psycopg  # noqa: PLC0415

    with psycopg.connect(srv.url, autocommit=True) as admin:
        admin.execute("TRUNCATE gpu_bookings")
        if already:
            admin.execute("INSERT INTO gpu_bookings VALUES ('vision', %s), ('speech', %s)",
                          (already // 2, already - already // 2))
        conns = [psycopg.connect(srv.url, autocommit=True) for _ in range(_ASKERS)]
        gate, answers, errs = threading.Barrier(_ASKERS), [None] * _ASKERS, []

        def one(i):
            try:
                gate.wait()
                answers[i] = book_gpus(_SlowConnection(conns[i], _DELAY_S), f"team-{i}", 3, _QUOTA)
            except BaseException as exc:  # noqa: BLE001 - report what the learner's code raised
                errs.append(exc)

        threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(_ASKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        hung = any(t.is_alive() for t in threads)
        total = admin.execute("SELECT coalesce(sum(gpus), 0) FROM gpu_bookings").fetchone()[0]
        booked = admin.execute("SELECT count(*) FROM gpu_bookings WHERE team LIKE 'team-%%'").fetchone()[0]
        for c in conns:
            try:
                c.close()
            except Exception:  # noqa: BLE001
                pass
    return total, answers, errs, hung, booked


class _NoConnection:
    """Stands in for a connection to find out, without starting a server, whether the skeleton is unwritten."""

    def __getattr__(self, name):
        raise LookupError("not a real connection")


def _raises_not_implemented(fn) -> bool:
    import threading  # noqa: PLC0415

    seen = []

    def probe():
        try:
            fn(_NoConnection(), "probe", 1, _QUOTA)
        except NotImplementedError:
            seen.append(True)
        except BaseException:  # noqa: BLE001 - a written solution fails on the stand-in: that is expected
            pass

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(0.5)
    return bool(seen)


@grader("db.build-gpu-quota")
def build_gpu_quota(book_gpus) -> Feedback:
    """Runs ``book_gpus(conn, team, gpus, quota)`` against a real PostgreSQL: alone, then four teams at once."""
    import psycopg  # noqa: PLC0415

    from .. import services  # noqa: PLC0415

    if not callable(book_gpus):
        return Feedback(False, "Pass the function itself: check(..., book_gpus).")
    if _raises_not_implemented(book_gpus):
        raise NotImplementedError  # the skeleton: "not written yet", without starting a server
    with services.postgres(name="grader-gpu-quota") as srv:
        with psycopg.connect(srv.url, autocommit=True) as admin:
            admin.execute("CREATE TABLE gpu_bookings (team text NOT NULL, gpus int NOT NULL CHECK (gpus > 0))")
            # 1. one caller at a time
            conn = psycopg.connect(srv.url, autocommit=True)
            first = book_gpus(conn, "vision", 3, _QUOTA)
            second = book_gpus(conn, "speech", 5, _QUOTA)
            third = book_gpus(conn, "nlp", 1, _QUOTA)
            conn.close()
            rows = admin.execute("SELECT team, gpus FROM gpu_bookings ORDER BY team").fetchall()
        if first is not True or second is not True:
            return Feedback(False, f"Alone, with the quota free, 3 and then 5 GPUs fit in 8; book_gpus returned "
                                   f"{first!r} and {second!r}. Insert the booking and return True when it fits.")
        if third is not False:
            return Feedback(False, f"8 of 8 GPUs were booked and book_gpus returned {third!r} for one more: "
                                   "read the total first and return False (booking nothing) when it would "
                                   "exceed the quota.")
        if sorted(rows) != [("speech", 5), ("vision", 3)]:
            return Feedback(False, f"After booking 3 for vision and 5 for speech and refusing nlp, the table "
                                   f"holds {rows}: each True must leave exactly one row, each False none.")
        # 2. four teams at once, each asking for 3 of the GPUs left
        for already in _ROUNDS:
            total, answers, errs, hung, booked = _round(srv, book_gpus, already)
            if hung:
                return Feedback(False, "Some calls never returned within 20 s: a transaction waits for a lock "
                                       "that is never released, or a retry loop never ends.")
            if errs:
                exc = errs[0]
                if isinstance(exc, psycopg.errors.SerializationFailure):
                    return Feedback(False, f"{len(errs)} of {_ASKERS} concurrent calls raised "
                                           "SerializationFailure: under SERIALIZABLE the database aborts one "
                                           "of two conflicting transactions, and the application must retry "
                                           "it (run the whole transaction again, re-reading the total).")
                return Feedback(False, f"A concurrent call raised {type(exc).__name__}: {exc}")
            fit = (_QUOTA - already) // 3
            if total > _QUOTA:
                empty = " With no rows booked yet, SELECT ... FOR UPDATE locks nothing (a phantom)." if not already else ""
                return Feedback(False, f"{_ASKERS} teams asked for 3 GPUs at the same moment with {already} "
                                       f"already booked, and {total} of {_QUOTA} GPUs ended up booked: every "
                                       "caller read the total before any of them wrote, and each saw room "
                                       "(write skew). Make the check and the insert one serial step: "
                                       "SERIALIZABLE with a retry, or a lock (LOCK TABLE gpu_bookings IN "
                                       f"SHARE ROW EXCLUSIVE MODE) taken before reading.{empty}")
            if sum(a is True for a in answers) != booked:
                return Feedback(False, f"The calls returned {answers}, but {booked} bookings are in the table: "
                                       "return True exactly when your booking committed.")
            if booked < fit:
                return Feedback(False, f"With {already} of {_QUOTA} GPUs booked, {fit} requests of 3 fit, but "
                                       f"only {booked} were booked ({answers}). A request that lost a race "
                                       "should be retried (re-read the total), not refused.")
    return Feedback(True, f"Right: alone and with {_ASKERS} teams at once (every statement slowed by "
                          f"{_DELAY_S * 1000:.0f} ms to force the race), the quota of {_QUOTA} GPUs was never "
                          "exceeded and every request that fitted was booked.")


# -- lab 3: indexing -------------------------------------------------------------------------------
@grader("db.btree-depth")
def btree_depth(answer) -> Feedback:
    """Levels of a B-tree with about 300 keys per page over a billion rows."""
    value = float(answer)
    if value > 100:
        return Feedback(False, "That is more like log2 of a billion or a page count; each level multiplies the "
                               "reach by the fan-out (about 300), not by 2.")
    return close_to(value, 4, abs_tol=0.01, unit=" levels", hints={
        30: "log2(10^9) is about 30: that is a binary tree. A B-tree page holds hundreds of keys.",
        3: "300^3 is 27 million: three levels are not enough for a billion rows.",
    })


@grader("db.composite-usable")
def composite_usable(answer) -> Feedback:
    """Queries that reach one contiguous run of an (experiment_id, metric_name, step) index in one descent."""
    got = _letters(answer)
    fb = same_set(got, {"a", "b", "d"}, name="queries")
    if fb.ok:
        return Feedback(True, "Right: a, b and d constrain a leading prefix of the key. c and e skip the leading "
                              "column: at best a skip scan, one descent per distinct experiment_id.")
    if got & {"c", "e"}:
        return Feedback(False, "c and e do not constrain experiment_id, the leading column: the matching entries "
                               "are spread through the whole index (a skip scan descends once per experiment).")
    return Feedback(False, fb.message + " Look for queries that fix the leading column(s).")


@grader("db.index-storage")
def index_storage(answer) -> Feedback:
    """A 2 GB table with three indexes of 20% of its size each: total GB on disk."""
    return close_to(answer, 3.2, rel=0.02, unit=" GB", hints={
        2.4: "That counts one index; there are three.",
        1.2: "That is the indexes alone; the table is stored too.",
        0.6: "That is three indexes' fraction, not gigabytes: 3 x 20% of 2 GB is 1.2 GB, plus the table.",
    })
