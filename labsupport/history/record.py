"""Record what each client invoked and saw, cheaply and from any thread or coroutine.

    h = History()
    with h.op("c1", "write", "x", 3):             # ok on normal exit
        r.set("x", 3)
    with h.op("c2", "read", "x") as op:           # a read records the value it saw
        op.ok(r.get("x"))
    with h.op("c1", "write", "x", 4, fail_on=(ConnectionRefusedError,)):
        r.set("x", 4)                             # refused: fail; a timeout: unknown (both swallowed)
    async with h.op("c3", "cas", "x", (4, 5)) as op: ...   # asyncio too; cas that returns false: op.fail()
    op = h.invoke("c1", "incr", "n", 1); h.complete(op, "ok")           # low level
    h.add("c1", "write", "x", 1, 0.0, 5.0)        # a hand-made op: invoke and completion in ms
    h.add("c2", "read", "x", 1, 2.0, None, "unknown")
    h.to_frame(); h.save("h.jsonl"); History.load("h.jsonl")

Outcomes: "ok", "fail" (definitely did not happen), "unknown" (may or may not have happened; a
checker treats its completion time as +infinity). Recording does no I/O: a clock read and a locked append.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

OK, FAIL, UNKNOWN = "ok", "fail", "unknown"
OUTCOMES = (OK, FAIL, UNKNOWN)
WRITES = ("write", "cas", "append", "add", "incr")
INF = math.inf


def _hashable(v):
    """Lists (JSON has no tuples) become tuples, so values can be compared and memoised."""
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    return v


def _show(v):
    if isinstance(v, tuple | list):
        return "[" + ", ".join(_show(x) for x in v) + "]"
    return "nothing" if v is None else str(v)


@dataclass(slots=True, eq=False)
class Op:
    """One client operation. Times are ns on the history's clock; ``complete_ns`` None = never answered."""
    index: int
    client: str
    kind: str
    key: object
    value: object = None
    invoke_ns: int = 0
    complete_ns: int | None = None
    outcome: str | None = None          # None while in flight
    deps: list = field(default_factory=list)

    @property
    def invoke_ms(self) -> float:
        return self.invoke_ns / 1e6

    @property
    def complete_ms(self) -> float | None:
        return None if self.complete_ns is None else self.complete_ns / 1e6

    @property
    def end_ms(self) -> float:
        """When the op is known to be over: its completion, or +inf when the outcome is unknown."""
        return self.complete_ns / 1e6 if self.outcome in (OK, FAIL) and self.complete_ns is not None else INF

    @property
    def is_write(self) -> bool:
        return self.kind in WRITES

    def precedes(self, other: Op) -> bool:
        """Real-time order: self completed (for sure) before other was invoked."""
        return self.end_ms < other.invoke_ms

    def label(self) -> str:
        """Short text: 'write x=3', 'read x -> 3', 'cas x 1->2'."""
        k = "" if self.key is None else f" {self.key}"
        if self.kind == "read":
            return f"read{k} -> {'?' if self.outcome != OK else _show(self.value)}"
        if self.kind == "cas":
            old, new = self.value
            return f"cas{k} {_show(old)}->{_show(new)}"
        if self.kind == "write":
            return f"write{k}={_show(self.value)}"
        return f"{self.kind}{k} {_show(self.value)}"

    def describe(self) -> str:
        """A learner-readable line: 'c1 write x=3 (ok, 0.0-5.0 ms)'."""
        if self.outcome in (OK, FAIL) and self.complete_ns is not None:
            when = f"{self.outcome}, {self.invoke_ms:.1f}-{self.complete_ms:.1f} ms"
        elif self.complete_ns is not None:
            when = f"unknown, invoked at {self.invoke_ms:.1f} ms, gave up at {self.complete_ms:.1f} ms"
        else:
            when = f"{self.outcome or 'in flight'}, invoked at {self.invoke_ms:.1f} ms, never answered"
        return f"{self.client} {self.label()} ({when})"

    def to_dict(self) -> dict:
        return {"index": self.index, "client": self.client, "kind": self.kind, "key": self.key,
                "value": self.value, "invoke_ns": self.invoke_ns, "complete_ns": self.complete_ns,
                "outcome": self.outcome, "deps": self.deps}

    __str__ = describe


class _Scope:
    """What ``History.op`` returns: a sync and async context manager around one op."""

    __slots__ = ("h", "op", "fail_on", "unknown_on", "done")

    def __init__(self, h, op, fail_on, unknown_on):
        self.h, self.op, self.fail_on, self.unknown_on, self.done = h, op, fail_on, unknown_on, False

    def ok(self, value=None):
        """Answered; for a read, ``value`` is what it saw."""
        self.h.complete(self.op, OK, value)
        self.done = True

    def fail(self):
        """Definitely did not happen (refused, cas precondition false)."""
        self.h.complete(self.op, FAIL)
        self.done = True

    def unknown(self):
        """No answer: it may or may not have happened."""
        self.h.complete(self.op, UNKNOWN)
        self.done = True

    def __enter__(self):
        return self

    def __exit__(self, et, e, tb):
        if self.done:
            return False
        if et is None:
            self.ok(self.op.value if self.op.kind != "read" else None)
            return False
        if issubclass(et, self.fail_on):
            self.fail()
            return True
        self.unknown()
        return issubclass(et, self.unknown_on)   # expected faults are swallowed; bugs propagate

    async def __aenter__(self):
        return self

    async def __aexit__(self, et, e, tb):
        return self.__exit__(et, e, tb)


class History:
    """A thread-safe, append-only list of ops; ``fail_on`` / ``unknown_on``: how exceptions count."""

    def __init__(self, fail_on: tuple = (), unknown_on: tuple = (TimeoutError, ConnectionError)):
        self._lock = threading.Lock()
        self.ops: list[Op] = []
        self.t0_ns = time.perf_counter_ns()
        self.fail_on, self.unknown_on = tuple(fail_on), tuple(unknown_on)

    def _now(self) -> int:
        return time.perf_counter_ns() - self.t0_ns

    def invoke(self, client, kind: str, key=None, value=None, deps=()) -> Op:
        """Start an op now; ``deps`` names writes it causally depends on, as (key, value) pairs."""
        op = Op(0, str(client), kind, key, value, deps=[list(d) if isinstance(d, tuple) else d for d in deps])
        with self._lock:
            op.invoke_ns = self._now()
            op.index = len(self.ops)
            self.ops.append(op)
        return op

    def complete(self, op: Op, outcome: str = OK, value=None) -> Op:
        """Finish ``op`` now with ``outcome``; a read's ``value`` is the value seen."""
        outcome = UNKNOWN if outcome == "timeout" else outcome
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES} (or 'timeout'), not {outcome!r}")
        t = self._now()
        with self._lock:
            if op.kind == "read" and outcome == OK:
                op.value = value
            op.complete_ns, op.outcome = t, outcome
        return op

    def op(self, client, kind: str, key=None, value=None, deps=(), fail_on=None, unknown_on=None) -> _Scope:
        """``with h.op(...) as op:`` ok on normal exit, fail on ``fail_on``, unknown on other exceptions."""
        return _Scope(self, self.invoke(client, kind, key, value, deps),
                      self.fail_on if fail_on is None else tuple(fail_on),
                      self.unknown_on if unknown_on is None else tuple(unknown_on))

    def add(self, client, kind: str, key, value, invoke_ms: float, complete_ms: float | None,
            outcome: str = OK, deps=()) -> Op:
        """Append a hand-made op with its times in ms (tests, worked examples)."""
        op = Op(len(self.ops), str(client), kind, key, value, round(invoke_ms * 1e6),
                None if complete_ms is None else round(complete_ms * 1e6),
                UNKNOWN if outcome == "timeout" else outcome, [list(d) for d in deps])
        if op.outcome not in OUTCOMES or (op.complete_ns is None and op.outcome != UNKNOWN):
            raise ValueError(f"{op.describe()}: outcome must be one of {OUTCOMES}; only unknown ops lack a "
                             "completion time")
        if op.complete_ns is not None and op.complete_ns < op.invoke_ns:
            raise ValueError(f"{op.describe()}: completes before it is invoked")
        with self._lock:
            op.index = len(self.ops)
            self.ops.append(op)
        return op

    def __len__(self):
        return len(self.ops)

    def __iter__(self):
        return iter(list(self.ops))

    def __getitem__(self, i):
        return self.ops[i]

    def by_key(self) -> dict:
        """{key: [ops]} in invocation order."""
        out: dict = {}
        for op in self.ops:
            out.setdefault(op.key, []).append(op)
        return out

    def clients(self) -> list[str]:
        return sorted({op.client for op in self.ops}, key=_natural)

    def to_frame(self):
        """One row per op: index, client, kind, key, value, invoke_ms, complete_ms, outcome, deps."""
        import pandas as pd  # noqa: PLC0415

        rows = [{"index": o.index, "client": o.client, "kind": o.kind, "key": o.key, "value": o.value,
                 "invoke_ms": o.invoke_ms,
                 "complete_ms": math.nan if o.complete_ns is None else o.complete_ms,
                 "outcome": o.outcome, "deps": o.deps} for o in self.ops]
        cols = ["index", "client", "kind", "key", "value", "invoke_ms", "complete_ms", "outcome", "deps"]
        return pd.DataFrame(rows, columns=cols)

    def save(self, path) -> Path:
        """JSON lines, one op per line; values must be JSON (tuples come back as lists, compared equal)."""
        path = Path(path)
        with path.open("w") as f:
            for o in self.ops:
                f.write(json.dumps(o.to_dict()) + "\n")
        return path

    @classmethod
    def load(cls, path) -> History:
        h = cls()
        for line in Path(path).read_text().splitlines():
            if line.strip():
                d = json.loads(line)
                h.ops.append(Op(**d))
        h.ops.sort(key=lambda o: o.index)
        return h


def _natural(s: str):
    """'c2' before 'c10'."""
    import re  # noqa: PLC0415

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]
