"""SIMULATED histories of a correct (linearizable) register, for tests, benches and worked examples.

    h = random_register_history(n_ops=4000, clients=6, keys=("x", "y"), seed=42, p_unknown=0.02)
    op = inject_stale_read(h, seed=1)     # one read now returns a long-overwritten value: a known violation

Each client runs one op at a time; each op takes effect at a random instant inside its window
(a timed-out op takes effect with probability 1/2, or never), so the true history is linearizable.
"""

from __future__ import annotations

import heapq
import random

from .record import FAIL, OK, UNKNOWN, History, Op


def random_register_history(n_ops: int = 2000, clients: int = 5, keys=("x",), seed: int = 42,
                            p_write: float = 0.35, p_cas: float = 0.1, p_unknown: float = 0.01,
                            latency_ms: float = 2.0, think_ms: float = 0.5, timeout_ms: float = 10.0
                            ) -> History:
    """A seeded history of ``n_ops`` ops by ``clients`` clients on a linearizable register per key."""
    rng = random.Random(seed)
    plan = []                     # [invoke, complete, effect time or None, client, kind, key, value, outcome]
    heap = [(rng.uniform(0, think_ms), c) for c in range(clients)]
    next_value = 1
    while len(plan) < n_ops:
        t, c = heapq.heappop(heap)
        key = rng.choice(keys)
        u = rng.random()
        kind = "write" if u < p_write else "cas" if u < p_write + p_cas else "read"
        lat = 0.05 + rng.expovariate(1 / latency_ms)
        timed_out = rng.random() < p_unknown
        done = t + (timeout_ms if timed_out else lat)
        effect = t + rng.random() * lat if not timed_out or rng.random() < 0.5 else None
        value = None
        if kind == "write":
            value, next_value = next_value, next_value + 1
        elif kind == "cas":
            old = next_value - 1 if rng.random() < 0.7 else rng.randint(0, next_value - 1)
            value, next_value = [old or None, next_value], next_value + 1
        plan.append([t, done, effect, f"c{c + 1}", kind, key, value, UNKNOWN if timed_out else OK])
        heapq.heappush(heap, (done + rng.expovariate(1 / think_ms), c))
    state: dict = {}
    for p in sorted((p for p in plan if p[2] is not None), key=lambda p: p[2]):
        _, _, _, _, kind, key, value, outcome = p
        cur = state.get(key)
        if kind == "write":
            state[key] = value
        elif kind == "cas":
            if cur == value[0]:
                state[key] = value[1]
            elif outcome == OK:
                p[7] = FAIL                       # precondition false: the cas did not happen
        elif outcome == OK:
            p[6] = cur
    h = History()
    for t, done, _effect, client, kind, key, value, outcome in sorted(plan, key=lambda p: p[0]):
        h.add(client, kind, key, value, t, done, outcome)
    return h


def inject_stale_read(h: History, seed: int = 1) -> Op:
    """Make one late ok read return a value overwritten long before it; returns that read."""
    rng = random.Random(seed)
    reads = [o for o in h.ops[len(h.ops) // 2:] if o.kind == "read" and o.outcome == OK]
    for r in rng.sample(reads, len(reads)):
        old = [w for w in h.ops if w.key == r.key and w.kind == "write" and w.outcome == OK
               and w.end_ms < r.invoke_ms - 50 and w.value != r.value]
        if old:
            r.value = old[len(old) // 2].value
            return r
    raise ValueError("no read late enough to make stale")
