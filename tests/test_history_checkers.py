"""labsupport.history.checkers on hand-made histories with known verdicts (times in ms)."""

from labsupport.history import (History, causal, lost_writes, monotonic_reads, random_register_history,
                                read_your_writes, stale_reads)


def hist(*rows):
    """rows: (client, kind, key, value, invoke_ms, complete_ms[, outcome[, deps]])."""
    h = History()
    for r in rows:
        h.add(*r)
    return h


# ------------------------------------------------------------------ lost writes
def test_lost_write_register():
    """x=2 was acknowledged after x=1 finished; the final read still sees 1: x=2 is lost, and named."""
    h = hist(("c1", "write", "x", 1, 0, 1), ("c2", "write", "x", 2, 2, 3), ("c3", "read", "x", 1, 10, 11))
    r = lost_writes(h)
    assert not r.ok and len(r.violations) == 1
    v = r.violations[0]
    assert [o.index for o in v.ops] == [1, 2, 0] and "c2 write x=2" in v.message and "lost" in v.message
    # same values, but the two writes overlap: either could be last, nothing is lost
    h = hist(("c1", "write", "x", 1, 0, 3), ("c2", "write", "x", 2, 1, 2), ("c3", "read", "x", 1, 10, 11))
    assert lost_writes(h).ok
    # an explicit final state, and the initial value
    h = hist(("c1", "write", "x", 1, 0, 1), ("c1", "write", "x", 2, 2, 3))
    assert lost_writes(h, final={"x": 2}).ok
    r = lost_writes(h, final={"x": None})
    assert not r.ok and {o.index for o in r.violations[0].ops} == {0} and len(r.violations) == 2
    # a write that failed or timed out may be missing
    h = hist(("c1", "write", "x", 1, 0, 1), ("c2", "write", "x", 2, 2, 3, "fail"),
             ("c2", "write", "x", 3, 4, 9, "unknown"), ("c3", "read", "x", 1, 10, 11))
    assert lost_writes(h).ok


def test_lost_elements_and_increments():
    """An acknowledged append missing from the final list is lost; a counter below its acked sum too."""
    h = hist(("c1", "append", "l", "a", 0, 1), ("c2", "append", "l", "b", 0, 2),
             ("c3", "append", "l", "c", 0, 50, "unknown"), ("c1", "read", "l", ["a"], 10, 11))
    r = lost_writes(h)
    assert not r.ok and [v.ops[0].value for v in r.violations] == ["b"]
    h.ops[-1].value = ["b", "a", "c"]
    assert lost_writes(h).ok
    h.ops[-1].value = ["a", "b", "z"]
    assert [v.kind for v in lost_writes(h).violations] == ["phantom element"]
    h = hist(("c1", "incr", "n", 1, 0, 1), ("c2", "incr", "n", 1, 0, 1),
             ("c3", "incr", "n", 1, 0, 9, "unknown"),
             ("c1", "read", "n", 1, 10, 11))
    r = lost_writes(h)
    assert not r.ok and r.violations[0].details["lost"] == 1
    h.ops[-1].value = 3                                   # the timed-out increment happened: fine
    assert lost_writes(h).ok
    h.ops[-1].value = 4
    assert lost_writes(h).violations[0].kind == "phantom increment"


# ------------------------------------------------------------------ stale reads
def test_stale_read_how_many_ms_and_versions():
    """Writes 1, 2, 3 one after the other; a read at 10 ms still sees 1: 2 versions and 7 ms behind."""
    h = hist(("c1", "write", "x", 1, 0, 1), ("c1", "write", "x", 2, 2, 3), ("c1", "write", "x", 3, 4, 5),
             ("c2", "read", "x", 1, 10, 11), ("c2", "read", "x", 3, 12, 13))
    r = stale_reads(h)
    assert not r.ok and len(r.violations) == 1
    v = r.violations[0]
    assert v.details == {"stale_ms": 7.0, "versions_behind": 2}
    assert v.ops[0].index == 3 and {o.index for o in v.ops} == {0, 1, 2, 3}
    assert "7.0 ms and 2 versions" in v.message and r.details["stale_ms"] == [7.0]
    assert "worst 7.0 ms and 2 versions behind" in r.summary


def test_reads_concurrent_with_a_write_are_not_stale():
    """A read overlapping the newer write may see either value; a read before the first write sees nothing."""
    h = hist(("c0", "read", "x", None, 0, 0.5), ("c1", "write", "x", 1, 1, 2), ("c1", "write", "x", 2, 3, 8),
             ("c2", "read", "x", 1, 4, 5), ("c3", "read", "x", 2, 4, 6), ("c2", "read", "x", 1, 6, 9))
    assert stale_reads(h).ok
    h.add("c4", "read", "x", None, 2.5, 3)                 # the initial value, after x=1 completed
    r = stale_reads(h)
    assert not r.ok and r.violations[0].details["versions_behind"] == 1
    assert "initial value" in r.violations[0].message


def test_values_nobody_wrote_or_not_yet_written():
    """A read of a value no one wrote, and a read of a value written only after it finished."""
    h = hist(("c1", "write", "x", 1, 0, 1), ("c2", "read", "x", 9, 2, 3), ("c2", "read", "x", 5, 4, 5),
             ("c1", "write", "x", 5, 6, 7))
    kinds = [v.kind for v in stale_reads(h).violations]
    assert kinds == ["phantom read", "future read"]
    # an unknown (timed-out) write may have happened: reading its value is fine
    h = hist(("c1", "write", "x", 1, 0, 1), ("c1", "write", "x", 2, 2, 3, "unknown"),
             ("c2", "read", "x", 2, 9, 10))
    assert stale_reads(h).ok


# ------------------------------------------------------------------ session guarantees
def test_read_your_writes():
    """c1 writes 2 after 1 was done, then reads 1: it lost its own write. Another client may lag (not RYW)."""
    h = hist(("c2", "write", "x", 1, 0, 1), ("c1", "write", "x", 2, 2, 3), ("c1", "read", "x", 1, 4, 5),
             ("c3", "read", "x", 1, 4, 5))
    r = read_your_writes(h)
    assert not r.ok and len(r.violations) == 1
    v = r.violations[0]
    assert [o.index for o in v.ops] == [1, 2, 0] and v.message.startswith("c1 wrote x=2")
    # c1 sees a newer value from someone else: fine; c1 sees its own: fine
    h = hist(("c1", "write", "x", 1, 0, 1), ("c2", "write", "x", 2, 2, 3), ("c1", "read", "x", 2, 4, 5),
             ("c2", "read", "x", 2, 4, 5))
    assert read_your_writes(h).ok
    # a timed-out own write need not be visible
    h = hist(("c1", "write", "x", 1, 0, 1), ("c1", "write", "x", 2, 2, 3, "unknown"),
             ("c1", "read", "x", 1, 4, 5))
    assert read_your_writes(h).ok


def test_monotonic_reads():
    """c2 sees 2, then 1 although x=2 overwrote x=1: backwards. Concurrent writes: any order is fine."""
    h = hist(("c1", "write", "x", 1, 0, 1), ("c1", "write", "x", 2, 2, 3), ("c2", "read", "x", 2, 4, 5),
             ("c2", "read", "x", 1, 6, 7), ("c3", "read", "x", 1, 4, 5), ("c3", "read", "x", 2, 6, 7))
    r = monotonic_reads(h)
    assert not r.ok and len(r.violations) == 1
    assert [o.index for o in r.violations[0].ops] == [2, 3, 0, 1] and "went back" in r.violations[0].message
    h = hist(("c1", "write", "x", 1, 0, 5), ("c3", "write", "x", 2, 0, 5), ("c2", "read", "x", 2, 1, 2),
             ("c2", "read", "x", 1, 3, 4))
    assert monotonic_reads(h).ok
    h.add("c2", "read", "x", None, 6, 7)               # back to the initial value: backwards
    assert not monotonic_reads(h).ok


# ------------------------------------------------------------------ causal
def test_causal_reads_from_chain_is_named():
    """Alice posts x=1; Bob reads it and replies y=2; Carol sees the reply but not the post."""
    h = hist(("alice", "write", "x", 1, 0, 1), ("bob", "read", "x", 1, 2, 3), ("bob", "write", "y", 2, 4, 5),
             ("carol", "read", "y", 2, 6, 7), ("carol", "read", "x", None, 8, 9))
    r = causal(h)
    assert not r.ok and len(r.violations) == 1
    v = r.violations[0]
    assert [o.index for o in v.ops] == [0, 1, 2, 3, 4]
    assert ("alice write x=1, read by bob read x -> 1, then bob write y=2, read by carol read y -> 2, "
            "then carol read x -> nothing") in v.message
    h.ops[-1].value = 1
    assert causal(h).ok
    # no chain from the post to the reply: Carol may miss the post (concurrent, not causal)
    h = hist(("alice", "write", "x", 1, 0, 1), ("bob", "write", "y", 2, 4, 5),
             ("carol", "read", "y", 2, 6, 7), ("carol", "read", "x", None, 8, 9))
    assert causal(h).ok


def test_causal_declared_dependency_and_loops():
    """A write that declares deps=[(x, 1)] carries x=1 with it; a read from one's own future is a loop."""
    h = hist(("c1", "write", "x", 1, 0, 1), ("c2", "write", "y", 2, 4, 5, "ok", [("x", 1)]),
             ("c3", "read", "y", 2, 6, 7), ("c3", "read", "x", None, 8, 9))
    r = causal(h)
    assert not r.ok and "needed by c2 write y=2" in r.violations[0].message
    h = hist(("c1", "read", "x", 1, 0, 1), ("c1", "write", "x", 1, 2, 3))
    r = causal(h)
    assert [v.kind for v in r.violations] == ["causal loop"]


def test_long_simulated_history_is_clean_for_every_checker():
    """A simulated linearizable register (3000 ops, 6 clients, timeouts): no checker reports anything."""
    h = random_register_history(n_ops=3000, clients=6, keys=("x", "y"), seed=7, p_unknown=0.02)
    for check in (lost_writes, stale_reads, read_your_writes, monotonic_reads, causal):
        r = check(h)
        assert r.ok, str(r)
