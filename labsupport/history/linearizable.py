"""Linearizability: is there one order of the ops, inside their real-time windows, that a register allows?

    r = linearizable(h)                   # a key-value map: each key checked on its own (P-compositionality)
    r = linearizable(h, per_key=False)    # the whole history is one register
    r.ok; print(r); r.details["order"]["x"]   # a valid order (when ok), per key
    r.violations[0].ops                   # the op that could not be placed, and the writes it conflicts with
    linearizable(h, model=Register(), initial={"x": 0}, timeout_s=30)   # ok=None if it gave up

Wing & Gong's search with Lowe's memo of (linearized ops, state), as in porcupine. A fail op did not
happen and is dropped; an unknown write may take effect anywhere after its invoke, or never; an
unknown read saw nothing and is dropped.
"""

from __future__ import annotations

import time

from .checkers import Result, Violation
from .record import FAIL, OK, History, Op, _hashable, _show


class Register:
    """The sequential spec: read, write, cas (old, new), incr (delta), append and add (set) on one value."""

    def init(self, initial):
        return _hashable(initial)

    def step(self, state, op: Op):
        """(allowed?, new state) for ``op`` applied to ``state``."""
        k, v = op.kind, op.value
        if k == "read":
            return _empty(state) == _empty(_hashable(v)) or _same_set(state, v), state
        if k == "write":
            return True, _hashable(v)
        if k == "cas":
            old, new = v
            return (state == _hashable(old)), _hashable(new)
        if k == "incr":
            return True, (state or 0) + v
        if k == "append":
            return True, (state or ()) + (_hashable(v),)
        if k == "add":
            return True, frozenset(state or ()) | {_hashable(v)}
        raise ValueError(f"Register does not know {k!r} ({op.describe()}); "
                         "use read/write/cas/incr/append/add")


def _empty(s):
    return None if s in ((), frozenset()) else s


def _same_set(state, v):
    return isinstance(state, frozenset) and isinstance(v, list | tuple | set | frozenset) and \
        state == frozenset(_hashable(x) for x in v)


class _GaveUp(Exception):
    pass


INF = float("inf")


def _prune(ops: list[Op], initial):
    """The ops to place and their latest return times.

    A fail op and an unknown read are dropped. On a plain read/write/cas key, an unknown write or cas
    of a unique value nobody observed is dropped too (placing it can only hide a value no one reads);
    one whose value was read must have happened before its first observer answered, so it gets that
    finite deadline instead of +inf. This keeps timed-out ops from multiplying the search."""
    calls = [o for o in ops if o.outcome == OK or (o.kind != "read" and o.outcome != FAIL)]
    writers: dict = {}
    for o in calls:
        if o.kind in ("write", "cas"):
            writers.setdefault(_hashable(o.value if o.kind == "write" else o.value[1]), []).append(o)
    seen: dict = {}
    for o in calls:
        if o.outcome == OK and o.kind in ("read", "cas"):
            v = _hashable(o.value if o.kind == "read" else o.value[0])
            seen[v] = min(seen.get(v, INF), o.end_ms)
    init = _hashable(initial)
    if any(o.kind not in ("read", "write", "cas") for o in calls):    # incr/append see the value too
        return calls, [o.end_ms for o in calls]
    out, ends = [], []
    for o in calls:
        end = o.end_ms
        if end == INF and o.kind in ("write", "cas"):
            v = _hashable(o.value if o.kind == "write" else o.value[1])
            if v != init and len(writers[v]) == 1:
                if v not in seen:
                    continue
                end = max(seen[v], o.invoke_ms)
        out.append(o)
        ends.append(end)
    return out, ends


def _check(ops: list[Op], model, initial, deadline):
    """WGL over one partition. Returns (True, order, None) or (False, best prefix, (stuck op, state))."""
    calls, ends = _prune(ops, initial)
    n = len(calls)
    if n == 0:
        return True, [], None
    # events: (time, 0 = call / 1 = return, op number); equal times count as overlapping (calls first)
    ev = [(o.invoke_ms, 0, i) for i, o in enumerate(calls)]
    ev += [(e, 1, i) for i, e in enumerate(ends)]
    ev.sort()
    m = len(ev)                                  # node m is the head sentinel
    nxt, prv = [0] * (m + 1), [0] * (m + 1)
    is_call = [e[1] == 0 for e in ev]
    opno = [e[2] for e in ev]
    ret_node = [0] * n
    for j, (_, kind, i) in enumerate(ev):
        if kind == 1:
            ret_node[i] = j
    head = m
    order = [head, *range(m), -1]
    for a, b in zip(order, order[1:]):
        nxt[a] = b
        if b >= 0:
            prv[b] = a
    is_finite = [e != INF for e in ends]
    finite = sum(is_finite)

    cache: set = set()
    top, depth = None, 0                         # the stack as linked tuples (call node, state before, below)
    state, lin, done_finite = model.init(initial), 0, 0
    best, stuck = (None, 0, state), None         # (stack top, depth, state) of the longest prefix found
    node, steps = nxt[head], 0
    step = model.step
    while True:
        if done_finite == finite:
            return True, _unwind(top, calls, opno), None
        steps += 1
        if deadline and steps % 4096 == 0 and time.monotonic() > deadline:
            raise _GaveUp
        if node >= 0 and is_call[node]:
            i = opno[node]
            allowed, new = step(state, calls[i])
            if allowed:
                new_lin = lin | (1 << i)
                low = (new_lin ^ (new_lin + 1)).bit_length() - 1     # ops below `low` are all placed
                memo = (low, new_lin >> low, new)
                if memo not in cache:
                    cache.add(memo)
                    top, depth = (node, state, top), depth + 1
                    state, lin = new, new_lin
                    done_finite += is_finite[i]
                    r = ret_node[i]                 # lift the call and its return out of the list
                    nxt[prv[node]] = nxt[node]
                    prv[nxt[node]] = prv[node]
                    nxt[prv[r]] = nxt[r]
                    if nxt[r] >= 0:
                        prv[nxt[r]] = prv[r]
                    if depth > best[1]:
                        best, stuck = (top, depth, state), None
                    node = nxt[head]
                    continue
            node = nxt[node]
        else:                                       # a return whose op is not linearized yet: back up
            if depth == best[1] and stuck is None and node >= 0:
                stuck = calls[opno[node]]
            if top is None:
                return False, _unwind(best[0], calls, opno), (stuck, best[2])
            c, state, top = top
            depth -= 1
            i = opno[c]
            lin &= ~(1 << i)
            done_finite -= is_finite[i]
            r = ret_node[i]                         # put it back
            nxt[prv[r]] = r
            if nxt[r] >= 0:
                prv[nxt[r]] = r
            nxt[prv[c]] = c
            prv[nxt[c]] = c
            node = nxt[c]


def _unwind(top, calls, opno) -> list:
    out = []
    while top is not None:
        out.append(calls[opno[top[0]]])
        top = top[2]
    return out[::-1]


def linearizable(h: History, model=None, per_key: bool = True, initial=None, timeout_s: float | None = None
                 ) -> Result:
    """Is the history linearizable? ``initial``: a value or {key: value}; ``timeout_s``: give up (ok=None)."""
    model = model or Register()
    parts = h.by_key() if per_key else {None: list(h.ops)}
    deadline = time.monotonic() + timeout_s if timeout_s else None
    violations, orders, bad_keys, t0 = [], {}, [], time.perf_counter()
    for key, ops in parts.items():
        init = initial.get(key) if isinstance(initial, dict) else initial
        try:
            ok, seq, why = _check(ops, model, init, deadline)
        except _GaveUp:
            return Result("linearizability", None, f"undecided: gave up after {timeout_s} s on key {key!r}",
                          violations, {"order": orders, "bad_keys": bad_keys})
        if ok:
            orders[key] = seq
        else:
            bad_keys.append(key)
            violations.append(_explain(key, ops, seq, why, init, per_key))
    n = len(h.ops)
    where = f"{len(parts)} key{'s' if len(parts) != 1 else ''}" if per_key else "one register"
    secs = time.perf_counter() - t0
    if violations:
        summary = (f"not linearizable: {len(bad_keys)} of {len(parts)} key(s) fail "
                   f"({', '.join(map(str, bad_keys))}); {n} ops over {where}")
    else:
        summary = f"linearizable: {n} ops over {where}"
    return Result("linearizability", not violations, summary, violations,
                  {"order": orders, "bad_keys": bad_keys, "seconds": secs})


def _explain(key, ops, prefix, why, initial, per_key) -> Violation:
    stuck, state = why
    kname = f"key {key}" if per_key and key is not None else "the register"
    shown = [o for o in ops if o.outcome == OK or (o.kind != "read" and o.outcome != FAIL)]
    setter = next((o for o in reversed(prefix) if o.kind != "read"), None)
    now = f"{key}={_show(state)}" if key is not None else _show(state)
    by = f" (last set by {setter.describe()})" if setter else " (the initial value)"
    msg = (f"{kname} is not linearizable: the longest linearizable prefix found has {len(prefix)} of "
           f"{len(shown)} ops and leaves {now}{by}; then {stuck.describe() if stuck else 'an op'} "
           "cannot be placed")
    involved = [o for o in (stuck, setter) if o is not None]
    if stuck is not None and stuck.kind in ("read", "cas"):
        want = _hashable(stuck.value if stuck.kind == "read" else stuck.value[0])
        writers = [o for o in shown if o.kind in ("write", "cas") and o is not stuck
                   and _hashable(o.value if o.kind == "write" else o.value[1]) == want]
        if not writers and want != _hashable(initial):
            msg += f": no operation wrote {_show(want)}"
        elif writers:
            w = writers[0]
            involved.append(w)
            if w.invoke_ms > stuck.end_ms:
                msg += f": {_show(want)} was written only later, by {w.describe()}"
            elif w in prefix:
                msg += f": {_show(want)} was written by {w.describe()} and had already been overwritten"
            else:
                msg += f": it needs {_show(want)} from {w.describe()}, which cannot be placed before it"
        else:
            msg += f": {_show(want)} is the initial value, which had already been overwritten"
    return Violation("not linearizable", msg, involved,
                     {"key": key, "prefix": prefix, "state": state, "stuck": stuck})
