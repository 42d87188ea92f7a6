"""labsupport.history.linearizable: hand-made histories with known verdicts, a brute-force cross-check,
and a long simulated history (times in ms)."""

import itertools
import random
import time

import pytest

from labsupport.history import History, Register, inject_stale_read, linearizable, random_register_history


def hist(*rows):
    """rows: (client, kind, key, value, invoke_ms, complete_ms[, outcome])."""
    h = History()
    for r in rows:
        h.add(*r)
    return h


def test_sequential_read_after_write():
    h = hist(("c1", "write", "x", 1, 0, 1), ("c2", "read", "x", 1, 2, 3))
    r = linearizable(h)
    assert r.ok and r.summary.startswith("linearizable")
    assert [o.index for o in r.details["order"]["x"]] == [0, 1]


def test_stale_read_is_not_linearizable_and_is_explained():
    """x=1 then x=2, both done; a later read sees 1. The explanation names the read and both writes."""
    h = hist(("c1", "write", "x", 1, 0, 5), ("c1", "write", "x", 2, 6, 10), ("c2", "read", "x", 1, 12, 13))
    r = linearizable(h)
    assert r.ok is False and r.details["bad_keys"] == ["x"] and len(r.violations) == 1
    v = r.violations[0]
    assert [o.index for o in v.ops] == [2, 1, 0]
    assert "c2 read x -> 1 (ok, 12.0-13.0 ms) cannot be placed" in v.message
    assert "leaves x=2 (last set by c1 write x=2" in v.message and "already been overwritten" in v.message
    assert len(v.details["prefix"]) == 2 and v.details["stuck"] is h[2]


def test_only_the_reverse_of_invoke_order_works():
    """x=2 is invoked after x=1 but must take effect first: the reads see 2, then 1."""
    h = hist(("c1", "write", "x", 1, 0, 5), ("c2", "write", "x", 2, 1, 9), ("c3", "read", "x", 2, 2, 4),
             ("c3", "read", "x", 1, 6, 8))
    r = linearizable(h)
    assert r.ok and [o.index for o in r.details["order"]["x"]] == [1, 2, 0, 3]
    h.add("c3", "read", "x", 2, 10, 11)          # 2 cannot come back once 1 replaced it
    assert not linearizable(h).ok


def test_three_concurrent_writes_ordered_by_their_reads():
    """Three overlapping writes; reads fix the order 3, 1, 2, the reverse-ish of their invocations."""
    h = hist(("c1", "write", "x", 1, 0, 10), ("c2", "write", "x", 2, 1, 10), ("c3", "write", "x", 3, 2, 10),
             ("c4", "read", "x", 3, 3, 4), ("c4", "read", "x", 1, 5, 6), ("c4", "read", "x", 2, 11, 12))
    r = linearizable(h)
    assert r.ok and [o.value for o in r.details["order"]["x"] if o.kind == "write"] == [3, 1, 2]
    h.add("c5", "read", "x", 3, 11, 12)          # two reads after all writes disagree: impossible
    assert not linearizable(h).ok


def test_unknown_write_makes_a_read_legal():
    """x=2 timed out; a later read of 2 is legal (it took effect). If it had failed, 2 is impossible."""
    h = hist(("c1", "write", "x", 1, 0, 1), ("c2", "write", "x", 2, 2, 3, "unknown"),
             ("c3", "read", "x", 2, 20, 21))
    assert linearizable(h).ok
    h.ops[1].outcome = "fail"
    r = linearizable(h)
    assert not r.ok and "no operation wrote 2" in r.violations[0].message
    # an unknown write may also never happen: the read still sees 1
    h = hist(("c1", "write", "x", 1, 0, 1), ("c2", "write", "x", 2, 2, 3, "unknown"),
             ("c3", "read", "x", 1, 20, 21))
    assert linearizable(h).ok
    # it may take effect long after the client gave up (here at 30 ms, after a read of 1)
    h.add("c3", "read", "x", 2, 30, 31)
    assert linearizable(h).ok


def test_unknown_ops_that_do_not_help():
    """Even an unknown write cannot explain a read before its invoke, nor 1 coming back after 2 was seen."""
    h = hist(("c1", "write", "x", 1, 0, 1), ("c3", "read", "x", 2, 2, 3),
             ("c2", "write", "x", 2, 4, None, "unknown"))
    r = linearizable(h)
    assert not r.ok and "written only later" in r.violations[0].message
    h = hist(("c1", "write", "x", 1, 0, 1), ("c2", "write", "x", 2, 2, 3, "unknown"),
             ("c3", "read", "x", 2, 5, 6),
             ("c3", "read", "x", 1, 7, 8))
    assert not linearizable(h).ok
    # an unknown read saw nothing and constrains nothing
    h = hist(("c1", "write", "x", 1, 0, 1), ("c2", "read", "x", None, 2, 3, "unknown"))
    assert linearizable(h).ok


def test_cas_register():
    """cas 0->1 and 1->2 chain; two cas from the same value cannot both succeed; a failed cas did nothing."""
    h = hist(("c1", "write", "x", 0, 0, 1), ("c2", "cas", "x", (0, 1), 2, 6),
             ("c3", "cas", "x", (1, 2), 3, 7),
             ("c1", "read", "x", 2, 8, 9))
    assert linearizable(h).ok
    h = hist(("c1", "write", "x", 0, 0, 1), ("c2", "cas", "x", (0, 1), 2, 6),
             ("c3", "cas", "x", (0, 2), 3, 7),
             ("c1", "read", "x", 2, 8, 9))
    r = linearizable(h)
    assert not r.ok and any(o.kind == "cas" for o in r.violations[0].ops)
    h.ops[1].outcome = "fail"                        # the first cas lost the race: fine
    assert linearizable(h).ok
    # a timed-out cas whose precondition never held cannot have taken effect
    h = hist(("c1", "write", "x", 0, 0, 1), ("c2", "cas", "x", (5, 1), 2, 3, "unknown"),
             ("c1", "read", "x", 1, 8, 9))
    assert not linearizable(h).ok


def test_multi_key_map_names_the_failing_key():
    """P-compositionality: x and z are fine, y has a stale read; only y's ops are named."""
    h = hist(("c1", "write", "x", 1, 0, 1), ("c2", "read", "x", 1, 2, 3),
             ("c1", "write", "y", 1, 0, 1), ("c1", "write", "y", 2, 2, 3), ("c2", "read", "y", 1, 4, 5),
             ("c3", "write", "z", 7, 0, 9), ("c3", "read", "z", 7, 10, 11))
    r = linearizable(h)
    assert not r.ok and r.details["bad_keys"] == ["y"] and "1 of 3 key(s) fail (y)" in r.summary
    assert {o.key for o in r.violations[0].ops} == {"y"} and set(r.details["order"]) == {"x", "z"}
    # as one register (ignore keys), the same ops are not linearizable either
    assert not linearizable(h, per_key=False).ok


def test_counter_append_and_initial_values():
    h = hist(("c1", "incr", "n", 1, 0, 5), ("c2", "incr", "n", 2, 0, 5), ("c3", "read", "n", 2, 1, 2),
             ("c3", "read", "n", 3, 6, 7))
    assert linearizable(h).ok
    h.add("c3", "read", "n", 1, 8, 9)
    assert not linearizable(h).ok
    h = hist(("c1", "append", "l", "a", 0, 5), ("c2", "append", "l", "b", 0, 5),
             ("c3", "read", "l", ["b", "a"], 6, 7))
    assert linearizable(h).ok
    h = hist(("c1", "read", "x", 0, 0, 1), ("c1", "cas", "x", (0, 1), 2, 3))
    assert not linearizable(h).ok and linearizable(h, initial={"x": 0}).ok and linearizable(h, initial=0).ok


def test_timeout_gives_an_undecided_verdict():
    """Timed-out increments may each have happened or not: 2^40 subsets. With a 0.2 s budget it gives up."""
    h = History()
    for i in range(40):
        h.add(f"c{i}", "incr", "n", 2 ** i, 0, 1, "unknown")
    h.add("c99", "read", "n", -1, 2, 3)
    r = linearizable(h, timeout_s=0.2)
    assert r.ok is None and r.summary.startswith("undecided") and not r


# ------------------------------------------------------------------ brute force on tiny random histories
def brute_force(h: History, model=Register()) -> bool:
    calls = [o for o in h if o.outcome == "ok" or (o.kind != "read" and o.outcome != "fail")]
    must = [o for o in calls if o.outcome == "ok"]
    maybe = [o for o in calls if o.outcome != "ok"]
    for k in range(len(maybe) + 1):
        for extra in itertools.combinations(maybe, k):
            for perm in itertools.permutations(must + list(extra)):
                if any(b.precedes(a) for i, a in enumerate(perm) for b in perm[i + 1:]):
                    continue
                state, good = None, True
                for o in perm:
                    good, state = model.step(state, o)
                    if not good:
                        break
                if good:
                    return True
    return False


def random_tiny_history(rng: random.Random) -> History:
    h = History()
    for c in range(rng.choice([2, 3])):
        t = rng.randint(0, 2)
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(["read", "read", "write", "write", "cas"])
            value = {"read": rng.choice([None, 1, 2]), "write": rng.choice([1, 2]),
                     "cas": (rng.choice([None, 1, 2]), rng.choice([1, 2]))}[kind]
            dur = rng.randint(0, 4)
            outcome = rng.choices(["ok", "unknown", "fail"], [6, 2, 1])[0]
            h.add(f"c{c}", kind, "x", value, t, t + dur, outcome)
            t += dur + rng.randint(0, 2)
    h.ops.sort(key=lambda o: o.invoke_ns)
    for i, o in enumerate(h.ops):
        o.index = i
    return h


def test_agrees_with_brute_force_on_600_random_tiny_histories():
    """Ties, duplicate values, cas, unknown and failed ops: WGL's verdict equals exhaustive search's,
    and every order it returns replays on the register within each op's window."""
    rng = random.Random(2024)
    verdicts = []
    for _ in range(600):
        h = random_tiny_history(rng)
        r = linearizable(h)
        assert r.ok == brute_force(h), "\n".join(o.describe() for o in h)
        verdicts.append(r.ok)
        if r.ok:
            order = r.details["order"]["x"]
            state = None
            for i, o in enumerate(order):
                good, state = Register().step(state, o)
                assert good and not any(b.precedes(o) for b in order[i + 1:])
            assert {o.index for o in h if o.outcome == "ok"} <= {o.index for o in order}
    assert 0.2 < sum(verdicts) / len(verdicts) < 0.8        # both verdicts are well represented


# ------------------------------------------------------------------ a long history
@pytest.mark.parametrize("n_ops", [4000])
def test_long_history_finishes_and_finds_the_injected_stale_read(n_ops):
    """A simulated linearizable register, 6 clients, 2 % timeouts; then one read made stale."""
    h = random_register_history(n_ops=n_ops, clients=6, seed=42, p_unknown=0.02)
    assert sum(o.outcome == "unknown" for o in h) > 40 and sum(o.kind == "cas" for o in h) > 200
    t0 = time.perf_counter()
    ok = linearizable(h)
    t_ok = time.perf_counter() - t0
    assert ok.ok, str(ok)
    bad = inject_stale_read(h, seed=1)
    t0 = time.perf_counter()
    r = linearizable(h)
    t_bad = time.perf_counter() - t0
    assert r.ok is False and bad.index in r.bad_ops() and r.violations[0].details["stuck"] is bad
    print(f"\n{n_ops} ops: linearizable in {t_ok:.2f} s; "
          f"with the injected stale read, refuted in {t_bad:.2f} s")
    assert t_ok < 20 and t_bad < 20


def test_unknown_write_seen_only_through_an_increment():
    """x=5 timed out and nobody read 5, but an increment after it made 6: it must count."""
    h = hist(("c1", "write", "x", 5, 0, 1, "unknown"), ("c2", "incr", "x", 1, 2, 3),
             ("c3", "read", "x", 6, 4, 5))
    assert linearizable(h).ok
