"""SQL clients the chapter 7 labs run against a real PostgreSQL: killed clients, races, receipts, plans.

    kill_mid_transfer(pg.url, in_transaction=False)   # a client PROCESS SIGKILLed between its two UPDATEs
    money_missing(conn, expected_total)               # what partial transfers destroyed
    promote(conn, "churn", 3, in_transaction=True, between=fn)   # a registry update touching two tables
    attempt(conn, "INSERT ...")                       # "accepted", or the error the client saw
    w = ReceiptWriter(pg.url, synchronous_commit="on").start();  pg.kill();  w.join();  w.lost(conn)
    commit_latencies_ms(pg.url, ["on", "off"])        # one-row autocommit INSERTs, the modes taking turns
    race = counter_race(pg.url, "read-modify-write")  # .lost_updates .failures .per_s (threads, own connections)
    skew = write_skew(pg.url, "serializable")         # .violations .failures over trials (GPU quota, two teams)
    plan = explain(conn, "SELECT ...", (42,))         # .text .pages .nodes .index_searches .ms
    lookup_ms(conn, "SELECT ... WHERE id = %s", keys) # client-side latency of each query
    print(show_source(transfer))                      # what a lab runs, shown rather than pasted

The why of each is in book/07-databases.md. Drivers live here, not in the server: the server is
``services.postgres()``.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import errors

TRANSFER_AMOUNT = 10
_RETRYABLE = (errors.SerializationFailure, errors.DeadlockDetected)


def show_source(fn) -> str:
    """The source of one of these functions, for a lab to print."""
    return inspect.getsource(fn).rstrip()


# -- atomicity: a client process killed between two statements ------------------------------------
def transfer(conn: psycopg.Connection, src: int, dst: int, amount: int, in_transaction: bool,
             gap_s: float = 0.0) -> None:
    """Move ``amount`` from account ``src`` to ``dst``: two UPDATEs, with ``gap_s`` of client work between."""
    def body():
        conn.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, src))
        time.sleep(gap_s)  # the application doing something between its two writes
        conn.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, dst))

    if in_transaction:
        with conn.transaction():
            body()
    else:
        body()


def _transfer_client(url: str, mode: str, gap_ms: float) -> None:
    """Child process: transfers between accounts 1..10 until it is killed."""
    conn = psycopg.connect(url, autocommit=True, application_name="transfer-client")
    print("ready", flush=True)
    i = 0
    while True:
        transfer(conn, 1 + i % 10, 1 + (i + 1) % 10, TRANSFER_AMOUNT, mode == "tx", gap_ms / 1000)
        i += 1


def kill_mid_transfer(url: str, in_transaction: bool, run_s: float = 0.15, gap_ms: float = 20.0) -> int:
    """Start a transfer client in its own process, let it work ``run_s``, SIGKILL it; return its pid."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in [_package_root(), os.environ.get("PYTHONPATH")] if p)}
    child = subprocess.Popen([sys.executable, "-m", "labsupport.sql_workloads", "transfer", url,
                              "tx" if in_transaction else "autocommit", str(gap_ms)],
                             stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    try:
        if child.stdout.readline().strip() != b"ready":
            raise RuntimeError("the transfer client failed to start (see the kernel's log)")
        time.sleep(run_s)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    return child.pid


def _package_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def wait_for_clients_gone(conn: psycopg.Connection, application_name: str = "transfer-client",
                          timeout_s: float = 5.0) -> None:
    """Wait until the server has noticed the dead client and ended (rolled back) its session."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        n = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                         (application_name,)).fetchone()[0]
        if n == 0:
            return
        time.sleep(0.01)


def money_missing(conn: psycopg.Connection, expected_total: int) -> int:
    """Money destroyed so far: what the accounts should hold minus what they hold."""
    return expected_total - conn.execute("SELECT sum(balance) FROM accounts").fetchone()[0]


# -- atomicity in the model registry: the server ends the session mid-update -----------------------
def promote(conn: psycopg.Connection, model: str, version: int, in_transaction: bool, between=None) -> None:
    """Make ``version`` the production version of ``model``: archive the old one, promote the new one,
    log an event (three statements, two tables). ``between()`` runs after the first statement."""
    def body():
        conn.execute("UPDATE model_versions SET stage = 'archived' WHERE model = %s AND stage = 'production'",
                     (model,))
        if between:
            between()
        conn.execute("UPDATE model_versions SET stage = 'production' WHERE model = %s AND version = %s",
                     (model, version))
        conn.execute("INSERT INTO registry_events (model, version, what) VALUES (%s, %s, 'promoted')",
                     (model, version))

    if in_transaction:
        with conn.transaction():
            body()
    else:
        body()


def attempt(conn: psycopg.Connection, sql: str, params=None) -> str:
    """Run one statement; return "accepted", or the error class and message the client received."""
    try:
        conn.execute(sql, params)
        return "accepted"
    except psycopg.Error as exc:
        first = str(exc).splitlines()[0]
        return f"{type(exc).__name__}: {first}"


# -- durability: receipts of acknowledged commits ---------------------------------------------------
class ReceiptWriter:
    """A client thread that INSERTs ids one commit at a time and keeps the id of every acknowledged one."""

    def __init__(self, url: str, synchronous_commit: str = "on", table: str = "receipts", start_id: int = 0):
        self.url, self.mode, self.table = url, synchronous_commit, table
        self.acked: list[int] = []
        self.error: str = ""
        self._next = start_id
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "ReceiptWriter":
        self._thread.start()
        self._ready.wait(10)
        return self

    def _run(self) -> None:
        try:
            conn = psycopg.connect(self.url, autocommit=True)
            conn.execute(f"SET synchronous_commit = {self.mode}")
            self._ready.set()
            while True:
                conn.execute(f"INSERT INTO {self.table} (id) VALUES (%s)", (self._next,))
                self.acked.append(self._next)  # COMMIT returned: the client holds a receipt
                self._next += 1
        except psycopg.Error as exc:  # the server went away: stop writing
            self.error = type(exc).__name__
        finally:
            self._ready.set()

    def join(self, timeout_s: float = 10.0) -> "ReceiptWriter":
        self._thread.join(timeout_s)
        return self

    def lost(self, conn: psycopg.Connection) -> int:
        """Acknowledged ids that the (restarted) server does not have."""
        if not self.acked:
            return 0
        have = {r[0] for r in conn.execute(f"SELECT id FROM {self.table} WHERE id BETWEEN %s AND %s",
                                           (self.acked[0], self.acked[-1])).fetchall()}
        return sum(1 for i in self.acked if i not in have)


def commit_latency_ms(url: str, synchronous_commit: str, n: int = 300, table: str = "latency_probe") -> list[float]:
    """Client-side latency of ``n`` one-row autocommit INSERTs (each one a COMMIT)."""
    return commit_latencies_ms(url, [synchronous_commit], n=n, table=table)[synchronous_commit]


def commit_latencies_ms(url: str, modes=("on", "off"), n: int = 300, table: str = "latency_probe") -> dict:
    """``{mode: [ms, ...]}``: ``n`` one-row autocommit INSERTs per ``synchronous_commit`` mode, one
    connection per mode, taking turns commit by commit, so a busy moment on the machine slows every
    mode alike instead of whichever happened to run then."""
    with contextlib.ExitStack() as stack:
        conns = {}
        for mode in modes:
            conn = stack.enter_context(psycopg.connect(url, autocommit=True))
            conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())")
            conn.execute(f"SET synchronous_commit = {mode}")
            conns[mode] = conn
        out = {mode: [] for mode in modes}
        for _ in range(n):
            for mode, conn in conns.items():
                t = time.perf_counter()
                conn.execute(f"INSERT INTO {table} DEFAULT VALUES")
                out[mode].append((time.perf_counter() - t) * 1000)
    return out


# -- isolation: concurrent read-modify-write ------------------------------------------------------
METHODS = {
    "read-modify-write": ("read committed", "SELECT n FROM counters WHERE id = 1", True),
    "atomic UPDATE": ("read committed", None, False),
    "SELECT FOR UPDATE": ("read committed", "SELECT n FROM counters WHERE id = 1 FOR UPDATE", True),
    "repeatable read + retry": ("repeatable read", "SELECT n FROM counters WHERE id = 1", True),
    "serializable + retry": ("serializable", "SELECT n FROM counters WHERE id = 1", True),
}


@dataclass
class RaceResult:
    method: str
    isolation: str
    expected: int
    final: int
    failures: int          # serialization failures the clients caught and retried
    seconds: float

    @property
    def lost_updates(self) -> int:
        return self.expected - self.final

    @property
    def per_s(self) -> float:
        """Increments committed per second (lost ones included: their transactions committed too)."""
        return self.expected / self.seconds


def _increment(conn: psycopg.Connection, method: str, think_s: float) -> int:
    """One increment by ``method``; returns how many serialization failures it retried."""
    isolation, read_sql, reads = METHODS[method]
    failures = 0
    while True:
        try:
            with conn.transaction():
                conn.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation.upper()}")
                if not reads:
                    time.sleep(think_s)
                    conn.execute("UPDATE counters SET n = n + 1 WHERE id = 1")
                else:
                    n = conn.execute(read_sql).fetchone()[0]
                    time.sleep(think_s)  # the application computing the new value
                    conn.execute("UPDATE counters SET n = %s WHERE id = 1", (n + 1,))
            return failures
        except _RETRYABLE:
            failures += 1


def counter_race(url: str, method: str, clients: int = 8, increments: int = 15, think_ms: float = 1.0) -> RaceResult:
    """``clients`` threads, each with its own connection, add 1 to one counter ``increments`` times."""
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("CREATE TABLE IF NOT EXISTS counters (id int PRIMARY KEY, n int NOT NULL)")
        admin.execute("INSERT INTO counters VALUES (1, 0) ON CONFLICT (id) DO UPDATE SET n = 0")
    conns = [psycopg.connect(url, autocommit=True) for _ in range(clients)]
    failures = [0] * clients
    gate = threading.Barrier(clients + 1)

    def client(i):
        gate.wait()
        for _ in range(increments):
            failures[i] += _increment(conns[i], method, think_ms / 1000)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    gate.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    final = conns[0].execute("SELECT n FROM counters WHERE id = 1").fetchone()[0]
    for c in conns:
        c.close()
    return RaceResult(method, METHODS[method][0], clients * increments, final, sum(failures), seconds)


# -- isolation: write skew on a shared GPU quota ----------------------------------------------------
GPU_QUOTA = 8


@dataclass
class SkewResult:
    isolation: str
    trials: int
    violations: int        # trials that ended with more GPUs booked than the quota
    failures: int          # serialization failures (the database refused one of the two)
    examples: list = field(default_factory=list)


def write_skew(url: str, isolation: str, trials: int = 10, retry: bool = False) -> SkewResult:
    """Two teams, each with 2 GPUs booked, both ask for 3 more at the same moment (quota 8).

    Each one reads the total, sees 4 + 3 <= 8, and books. The two are lined up so that both read
    before either writes: the interleaving that production meets when two requests arrive together."""
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("CREATE TABLE IF NOT EXISTS gpu_bookings (team text NOT NULL, gpus int NOT NULL)")
        conns = [psycopg.connect(url, autocommit=True) for _ in range(2)]
        violations = failures = 0
        examples = []
        for _ in range(trials):
            admin.execute("TRUNCATE gpu_bookings")
            admin.execute("INSERT INTO gpu_bookings VALUES ('vision', 2), ('speech', 2)")
            gate = threading.Barrier(2, timeout=5)
            fails = [0, 0]

            def team(i, name):
                first = True
                while True:
                    try:
                        with conns[i].transaction():
                            conns[i].execute(f"SET TRANSACTION ISOLATION LEVEL {isolation.upper()}")
                            used = conns[i].execute("SELECT sum(gpus) FROM gpu_bookings").fetchone()[0]
                            if first:
                                gate.wait()  # both have read the total before either books
                            if used + 3 <= GPU_QUOTA:
                                conns[i].execute("INSERT INTO gpu_bookings VALUES (%s, 3)", (name,))
                        return
                    except _RETRYABLE:
                        fails[i] += 1
                        first = False
                        if not retry:
                            return

            threads = [threading.Thread(target=team, args=(i, n)) for i, n in enumerate(["vision", "speech"])]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            total = admin.execute("SELECT sum(gpus) FROM gpu_bookings").fetchone()[0]
            violations += total > GPU_QUOTA
            failures += sum(fails)
            examples.append(total)
        for c in conns:
            c.close()
    return SkewResult(isolation, trials, violations, failures, examples)


# -- indexing: plans and lookups --------------------------------------------------------------------
@dataclass
class Plan:
    text: str
    nodes: list[str]           # node types, top first ("Index Scan", "Seq Scan", ...)
    pages: int                 # shared buffers hit + read by the whole plan (8 kB pages)
    index_searches: int        # PostgreSQL 18: descents into an index (skip scan makes many)
    ms: float                  # execution time the server measured

    @property
    def uses_index(self) -> bool:
        return any("Index" in n for n in self.nodes)

    def __str__(self) -> str:
        return self.text


def _walk(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _walk(child)


def explain(conn: psycopg.Connection, sql: str, params=None) -> Plan:
    """EXPLAIN (ANALYZE, BUFFERS) of ``sql``: its text, node types, pages touched and index descents."""
    doc = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params).fetchone()[0]
    if isinstance(doc, str):
        doc = json.loads(doc)
    top = doc[0]["Plan"]
    nodes = list(_walk(top))
    text = "\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF) "
                                                + sql, params).fetchall())
    return Plan(text=text, nodes=[n["Node Type"] for n in nodes],
                pages=int(top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)),
                index_searches=int(sum(n.get("Index Searches", 0) for n in nodes)),
                ms=float(doc[0].get("Execution Time", 0.0)))


def lookup_ms(conn: psycopg.Connection, sql: str, keys) -> list[float]:
    """Client-side latency (ms) of ``sql`` run once per key."""
    out = []
    for k in keys:
        t = time.perf_counter()
        conn.execute(sql, (k,)).fetchall()
        out.append((time.perf_counter() - t) * 1000)
    return out


def timed_insert_rows_per_s(conn: psycopg.Connection, table: str, rows: int) -> float:
    """Insert ``rows`` generated rows server-side (one statement); return rows per second."""
    t = time.perf_counter()
    conn.execute(f"INSERT INTO {table} (a, b, c, d, e, payload) SELECT (random() * 1e9)::int, "
                 "(random() * 1e9)::int, (random() * 1e9)::int, (random() * 1e9)::int, (random() * 1e9)::int, "
                 "md5(g::text) FROM generate_series(1, %s) g", (rows,))
    return rows / (time.perf_counter() - t)


def main(argv: list[str]) -> None:
    if argv[:1] == ["transfer"]:
        _transfer_client(argv[1], argv[2], float(argv[3]))
    else:
        sys.exit("usage: python -m labsupport.sql_workloads transfer URL tx|autocommit GAP_MS")


if __name__ == "__main__":
    main(sys.argv[1:])
