"""Histories, then verdicts: record what each client invoked and saw, check it, draw it.

    from labsupport.history import History, linearizable, stale_reads, timeline
    h = History()
    with h.op("c1", "write", "x", 3):          # ok on normal exit; TimeoutError/ConnectionError -> unknown
        r.set("x", 3)
    with h.op("c2", "read", "x") as op:
        op.ok(r.get("x"))                      # a read records the value it saw
    h.add("c3", "write", "x", 4, 1.0, 2.5)     # or build one by hand (times in ms)
    h.to_frame(); h.save("h.jsonl"); History.load("h.jsonl")

    linearizable(h)          # one order inside every op's window that a register allows (per key)
    lost_writes(h)           # acknowledged writes missing from the final read / final={"x": 4}
    stale_reads(h)           # reads missing completed writes: stale_ms, versions_behind
    read_your_writes(h)      # a client does not see its own completed write
    monotonic_reads(h)       # a client's reads go back to an older version
    causal(h)                # a read sees an effect without its cause (session + reads-from + deps)
    r = stale_reads(h); r.ok; print(r); r.violations[0].ops
    timeline(h, [linearizable(h), stale_reads(h)])   # lanes per client, named ops outlined in red

    random_register_history(n_ops=4000, clients=6, seed=42)   # a SIMULATED linearizable history
"""

from .checkers import Result, Violation, causal, lost_writes, monotonic_reads, read_your_writes, stale_reads
from .linearizable import Register, linearizable
from .record import FAIL, OK, UNKNOWN, History, Op
from .synthetic import inject_stale_read, random_register_history
from .timeline import timeline

__all__ = ["FAIL", "OK", "UNKNOWN", "History", "Op", "Register", "Result", "Violation", "causal",
           "inject_stale_read", "linearizable", "lost_writes", "monotonic_reads", "random_register_history",
           "read_your_writes", "stale_reads", "timeline"]
