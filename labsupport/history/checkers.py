"""Consistency checkers over a History; each returns a Result (.ok, .summary, .violations naming the ops).

    lost_writes(h)                 # acknowledged writes missing from the last read (or final={"x": 3})
    stale_reads(h)                 # reads that missed completed writes: how many ms and versions behind
    read_your_writes(h)            # a client does not see its own completed write
    monotonic_reads(h)             # a client's reads of a key go back to an older version
    causal(h)                      # a read sees an effect without its cause (session, reads-from, deps)
    print(result); result.violations[0].ops; result.bad_ops()

Reads name their writer by value, so write unique values per key. "Older" is only ever a sure order:
W1 completed before W2 was invoked (or W1 is the initial value), so a verdict never rests on a guess.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque
from dataclasses import dataclass, field

from .record import FAIL, OK, UNKNOWN, History, Op, _hashable, _show

INITIAL = "initial value"     # the writer of a value nobody wrote yet (None = key absent)


@dataclass
class Violation:
    """One anomaly: ``kind``, a plain-words ``message`` and the ``ops`` involved."""
    kind: str
    message: str
    ops: list[Op]
    details: dict = field(default_factory=dict)

    def __str__(self):
        return self.message


@dataclass
class Result:
    """A checker's verdict: ``ok`` (None = undecided), one-line ``summary``, ``violations``, ``details``."""
    checker: str
    ok: bool | None
    summary: str
    violations: list[Violation] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    def bad_ops(self) -> set[int]:
        """Indices of every op named by a violation (what a timeline outlines in red)."""
        return {o.index for v in self.violations for o in v.ops}

    def __bool__(self):
        return bool(self.ok)

    def __str__(self, limit: int = 10):
        lines = [f"{self.checker}: {self.summary}"]
        lines += [f"  - {v.message}" for v in self.violations[:limit]]
        if len(self.violations) > limit:
            lines.append(f"  ... and {len(self.violations) - limit} more")
        return "\n".join(lines)

    __repr__ = __str__


def _verdict(name: str, violations: list, what: str, total: int, extra: str = "", details=None) -> Result:
    if violations:
        summary = f"{len(violations)} {what} (of {total} checked){extra}"
    else:
        summary = f"ok: no {what} in {total} checked"
    return Result(name, not violations, summary, violations, details or {})


# --------------------------------------------------------------------- shared: who wrote what
def _initial_of(initial, key):
    return initial.get(key) if isinstance(initial, dict) else initial


def _written(op: Op):
    """The value a write-like op leaves in a register, or a sentinel when it is not a plain write."""
    if op.kind == "write":
        return _hashable(op.value)
    if op.kind == "cas":
        return _hashable(op.value[1])
    return _NOVALUE


_NOVALUE = object()


class _Key:
    """One key's register writes (ok or unknown: either may be read), indexed by value."""

    def __init__(self, ops: list[Op], initial):
        self.initial = _hashable(initial)
        self.writes = [o for o in ops if o.kind in ("write", "cas") and o.outcome in (OK, UNKNOWN, None)]
        self.acked = [o for o in self.writes if o.outcome == OK]
        self.acked.sort(key=lambda o: o.invoke_ns)
        self._acked_at = [o.invoke_ms for o in self.acked]
        self.by_value: dict = {}
        self.mask = 0
        for w in self.writes:
            self.by_value.setdefault(_written(w), []).append(w)
            self.mask |= 1 << w.index

    def acked_between(self, after_ms: float, before_ms: float) -> list:
        """Acknowledged writes invoked strictly after ``after_ms`` and before ``before_ms``."""
        return self.acked[bisect_right(self._acked_at, after_ms):bisect_left(self._acked_at, before_ms)]

    def writers(self, read: Op) -> list:
        """Writes that could have produced what ``read`` saw (INITIAL too); invoked before it completed."""
        v = _hashable(read.value)
        out = [w for w in self.by_value.get(v, []) if w.invoke_ms <= read.end_ms]
        if v == self.initial:
            out.append(INITIAL)
        return out

    def missing_writer(self, read: Op) -> Violation:
        v = _hashable(read.value)
        later = self.by_value.get(v, [])
        if later:
            return Violation("future read", f"{read.describe()} saw {_show(v)} before anyone wrote it: "
                             f"{later[0].describe()} was invoked only after the read completed",
                             [read, later[0]])
        return Violation("phantom read", f"{read.describe()} saw {_show(v)}, a value no operation wrote",
                         [read])


def _older(a, b) -> bool:
    """Surely older: a is the initial value (and b is not), or a completed before b was invoked."""
    if a is INITIAL:
        return b is not INITIAL
    return b is not INITIAL and a.precedes(b)


def _name(w) -> str:
    return "the initial value" if w is INITIAL else w.describe()


def _ok_reads(ops):
    return [o for o in ops if o.kind == "read" and o.outcome == OK]


def _register_keys(h: History):
    for key, ops in h.by_key().items():
        if any(o.kind in ("write", "cas") for o in ops) or not any(o.is_write for o in ops):
            yield key, ops


# --------------------------------------------------------------------- lost writes
def lost_writes(h: History, final: dict | None = None, initial=None) -> Result:
    """Acknowledged (ok) writes that the final state misses; ``final`` defaults to each key's last read.

    Registers (write/cas): a write is lost when the final value's writer completed before it was invoked.
    Collections (append/add): an acknowledged element is missing. Counters (incr): the total is too low."""
    violations, n_acked = [], 0
    for key, ops in h.by_key().items():
        reads = _ok_reads(ops)
        if final is not None and key in final:
            fin = Op(-1, "final state", "read", key, final[key], invoke_ns=10**18, complete_ns=10**18,
                     outcome=OK)
            fin_at, fin_ops, seen = float("inf"), [], "the final state"
        elif reads:
            fin = max(reads, key=lambda o: o.invoke_ns)
            fin_at, fin_ops, seen = fin.invoke_ms, [fin], f"the last read ({fin.describe()})"
        else:
            continue
        kinds = {o.kind for o in ops if o.is_write}
        acked = [o for o in ops if o.is_write and o.outcome == OK and o.end_ms < fin_at]
        n_acked += len(acked)
        if kinds & {"append", "add"}:
            have = set(_hashable(fin.value) or ())
            anywhere = {_hashable(o.value) for o in ops if o.kind in ("append", "add") and o.outcome != FAIL}
            for w in acked:
                if _hashable(w.value) not in have:
                    violations.append(Violation("lost write", f"{w.describe()} was acknowledged but "
                                                f"{_show(w.value)} is missing from {seen}", [w, *fin_ops]))
            for x in have - anywhere:
                violations.append(Violation("phantom element", f"{seen} contains {_show(x)}, which no "
                                            "operation added", fin_ops))
        elif kinds & {"incr"}:
            total = fin.value or 0
            low = (_initial_of(initial, key) or 0) + sum(o.value for o in acked if o.kind == "incr")
            high = (_initial_of(initial, key) or 0) + sum(o.value for o in ops if o.kind == "incr"
                                                         and o.outcome != FAIL and o.value > 0)
            if total < low:
                violations.append(Violation("lost write", f"{seen} shows {key}={total}, but {low} was "
                                            f"acknowledged: {low - total} acknowledged increments are lost",
                                            fin_ops, {"lost": low - total}))
            elif total > high:
                violations.append(Violation("phantom increment", f"{seen} shows {key}={total}, more than "
                                            f"all {high} increments ever sent", fin_ops))
        else:
            k = _Key(ops, _initial_of(initial, key))
            cands = k.writers(fin)
            if not cands:
                violations.append(k.missing_writer(fin))
                continue
            v = _hashable(fin.value)
            for w in acked:
                if w.kind in ("write", "cas") and _written(w) != v and all(_older(c, w) for c in cands):
                    c = cands[0]
                    violations.append(Violation(
                        "lost write", f"{w.describe()} was acknowledged but is lost: {seen} sees "
                        f"{key}={_show(v)}, written by {_name(c)}, which was already done before "
                        f"{key}={_show(_written(w))} was sent",
                        [w, *fin_ops] + ([] if c is INITIAL else [c])))
    return _verdict("lost writes", violations, "acknowledged writes lost", n_acked)


# --------------------------------------------------------------------- stale reads
def stale_reads(h: History, initial=None) -> Result:
    """Reads that miss writes completed before they were invoked: ``stale_ms`` and ``versions_behind``."""
    violations, n = [], 0
    for key, ops in _register_keys(h):
        k = _Key(ops, _initial_of(initial, key))
        for r in _ok_reads(ops):
            n += 1
            cands = k.writers(r)
            if not cands:
                violations.append(k.missing_writer(r))
                continue
            v = _hashable(r.value)
            best = None
            for c in cands:
                newer = [w for w in k.acked_between(-1.0 if c is INITIAL else c.end_ms, r.invoke_ms)
                         if w.end_ms < r.invoke_ms and _written(w) != v and _older(c, w)]
                if best is None or len(newer) < len(best[1]):
                    best = (c, newer)
            c, newer = best
            if not newer:
                continue
            first = min(newer, key=lambda w: w.end_ms)
            last = max(newer, key=lambda w: w.end_ms)
            stale_ms = r.invoke_ms - first.end_ms
            behind = len(newer)
            more = "" if behind == 1 else f"; {behind} completed writes behind, the newest {last.describe()}"
            violations.append(Violation(
                "stale read", f"{r.describe()} was stale by {stale_ms:.1f} ms and {behind} version"
                f"{'s' if behind > 1 else ''}: {key}={_show(v)} ({_name(c)}) had been overwritten by "
                f"{first.describe()}{more}", [r, first] + ([last] if last is not first else [])
                + ([] if c is INITIAL else [c]), {"stale_ms": stale_ms, "versions_behind": behind}))
    stale = [v.details for v in violations if v.kind == "stale read"]
    extra = ""
    if stale:
        extra = (f"; worst {max(d['stale_ms'] for d in stale):.1f} ms and "
                 f"{max(d['versions_behind'] for d in stale)} versions behind")
    return _verdict("stale reads", violations, "stale reads", n, extra,
                    {"stale_ms": [d["stale_ms"] for d in stale],
                     "versions_behind": [d["versions_behind"] for d in stale]})


# --------------------------------------------------------------------- session guarantees
def _sessions(ops):
    """{client: ops in invocation order}."""
    out: dict = {}
    for o in sorted(ops, key=lambda o: o.invoke_ns):
        out.setdefault(o.client, []).append(o)
    return out


def read_your_writes(h: History, initial=None) -> Result:
    """A client reads a key and sees a version older than its own completed write to that key."""
    violations, n = [], 0
    for key, ops in _register_keys(h):
        k = _Key(ops, _initial_of(initial, key))
        for client, sess in _sessions(ops).items():
            mine = None
            for o in sess:
                if o.kind in ("write", "cas") and o.outcome == OK:
                    mine = o
                elif o.kind == "read" and o.outcome == OK and mine is not None and mine.precedes(o):
                    n += 1
                    cands = k.writers(o)
                    if cands and _written(mine) != _hashable(o.value) and all(_older(c, mine) for c in cands):
                        violations.append(Violation(
                            "read-your-writes",
                            f"{client} wrote {key}={_show(_written(mine))} ({mine.describe()}) and then read "
                            f"{key} -> {_show(o.value)} at {o.invoke_ms:.1f} ms: its own write "
                            f"is missing ({_show(o.value)} is older: {_name(cands[0])})",
                            [mine, o] + [c for c in cands[:1] if c is not INITIAL]))
    return _verdict("read your writes", violations, "reads missing the client's own write", n)


def monotonic_reads(h: History, initial=None) -> Result:
    """A client's later read of a key returns a version surely older than one it already saw."""
    violations, n = [], 0
    for key, ops in _register_keys(h):
        k = _Key(ops, _initial_of(initial, key))
        for client, sess in _sessions(ops).items():
            seen: list = []          # the newest versions seen so far: (read, its writers)
            for r in _ok_reads(sess):
                cands = k.writers(r)
                if not cands:
                    continue
                n += 1
                for r1, c1 in seen:
                    if r1.precedes(r) and all(_older(c2, c) for c2 in cands for c in c1):
                        violations.append(Violation(
                            "monotonic reads", f"{client} read {key} -> {_show(r1.value)} at "
                            f"{r1.invoke_ms:.1f} ms, then {key} -> {_show(r.value)} at {r.invoke_ms:.1f} ms: "
                            f"it went back to an older version ({_name(cands[0])} was overwritten by "
                            f"{_name(c1[0])})",
                            [r1, r] + [c for c in (cands[0], c1[0]) if c is not INITIAL]))
                        break
                else:                # older versions are dominated by this one (sure order is transitive)
                    seen = [(r1, c1) for r1, c1 in seen
                            if not all(_older(c, c2) for c in c1 for c2 in cands)] + [(r, cands)]
    return _verdict("monotonic reads", violations, "reads going backwards", n)


# --------------------------------------------------------------------- causal order
def causal(h: History, initial=None) -> Result:
    """A read misses a write that happens before it (session order, reads-from, declared ``deps``)."""
    keys = {key: _Key(ops, _initial_of(initial, key)) for key, ops in h.by_key().items()}
    ops = sorted((o for o in h.ops if o.outcome == OK or (o.is_write and o.outcome != FAIL)),
                 key=lambda o: o.invoke_ns)
    pred: dict[int, list] = {o.index: [] for o in ops}      # index -> [(pred op, how)]
    for sess in _sessions(ops).values():
        prev = None
        for o in sess:
            if prev is not None:
                pred[o.index].append((prev, "then"))
            if o.outcome == OK:
                prev = o
    unique_writer = {}
    for key, k in keys.items():
        for v, ws in k.by_value.items():
            if len(ws) == 1 and v != k.initial:
                unique_writer[(key, v)] = ws[0]
    for o in ops:
        if o.kind == "read" and o.outcome == OK:
            w = unique_writer.get((o.key, _hashable(o.value)))
            if w is not None and w is not o:
                pred[o.index].append((w, "read by"))
        for d in o.deps:
            w = h.ops[d] if isinstance(d, int) else unique_writer.get((d[0], _hashable(d[1])))
            if w is not None:
                pred[o.index].append((w, "needed by"))
    succ: dict[int, list] = {}
    for i, ps in pred.items():
        for q, how in ps:
            succ.setdefault(q.index, []).append((i, how))
    past = _past(ops, pred, succ)
    violations, n = [], 0
    looped: set = set()
    for o in ops:
        if past[o.index] >> o.index & 1:
            if o.index not in looped:            # one violation per loop
                steps = _path(o, o, succ, h)
                violations.append(Violation("causal loop", f"{o.describe()} happens before itself: "
                                            + _chain(steps), [op for op, _ in steps[:-1]]))
                looped |= {op.index for op, _ in steps}
            looped.add(o.index)
    for r in ops:
        if r.kind != "read" or r.outcome != OK or r.index in looped:
            continue
        k = keys[r.key]
        cands = k.writers(r)
        if not cands:
            continue
        n += 1
        mine = _hashable(r.value)
        known = past[r.index] & k.mask
        for c in cands:                  # writes c came after cannot be newer than c
            if c is not INITIAL:
                known &= ~(past[c.index] | 1 << c.index)
        for a in (h.ops[i] for i in _bits_down(known)):
            if _written(a) == mine:
                continue
            if all(c is INITIAL or past[a.index] >> c.index & 1 for c in cands):
                steps = _path(a, r, succ, h)
                violations.append(Violation(
                    "causal", f"{r.describe()} misses {a.client} {a.label()}, which happened before it: "
                    f"{_chain(steps)}", [op for op, _ in steps] + [c for c in cands[:1] if c is not INITIAL]))
                break
    return _verdict("causal", violations, "causal violations", n)


def _past(ops, pred, succ) -> dict:
    """past[i]: bitset of every op that happens before op i (topological order; a fixpoint on cycles)."""
    past = {o.index: 0 for o in ops}
    indeg = {o.index: len(pred[o.index]) for o in ops}
    todo = deque(i for i, d in indeg.items() if d == 0)
    done = set()
    while todo:
        i = todo.popleft()
        done.add(i)
        p = 0
        for q, _ in pred[i]:
            p |= past[q.index] | 1 << q.index
        past[i] = p
        for j, _ in succ.get(i, []):
            indeg[j] -= 1
            if indeg[j] == 0:
                todo.append(j)
    rest = [o.index for o in ops if o.index not in done]
    changed = bool(rest)
    while changed:
        changed = False
        for i in rest:
            p = past[i]
            for q, _ in pred[i]:
                p |= past[q.index] | 1 << q.index
            if p != past[i]:
                past[i], changed = p, True
    return past


def _bits_down(m: int):
    while m:
        b = m.bit_length() - 1
        yield b
        m ^= 1 << b


def _path(a: Op, b: Op, succ, h) -> list:
    """Shortest happens-before chain from a to b as [(op, how it links to the next)]."""
    back, todo = {}, deque()
    for j, how in succ.get(a.index, []):
        back.setdefault(j, (a.index, how))
        todo.append(j)
    while todo and b.index not in back:
        i = todo.popleft()
        for j, how in succ.get(i, []):
            if j not in back:
                back[j] = (i, how)
                todo.append(j)
    if b.index not in back:
        return [(a, "..."), (b, None)]
    steps, cur = [(b, None)], b.index
    while True:
        i, how = back[cur]
        steps.append((h.ops[i], how))
        if i == a.index:
            return steps[::-1]
        cur = i


def _chain(steps) -> str:
    return "".join(f"{op.client} {op.label()}" + (f", {how} " if how else "") for op, how in steps)
