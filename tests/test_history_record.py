"""labsupport.history.record: recording from threads and asyncio, outcomes, frames and JSON lines."""

import asyncio
import math
import threading
import time

import pytest

from labsupport.history import History


def test_op_scope_sets_outcomes_and_swallows_only_expected_faults():
    """Normal exit is ok, a refusal marked definite is fail, a timeout is unknown; a bug still raises."""
    h = History(fail_on=(ConnectionRefusedError,))
    with h.op("c1", "write", "x", 1):
        pass
    with h.op("c2", "read", "x") as op:
        op.ok(1)
    with h.op("c1", "write", "x", 2):
        raise ConnectionRefusedError("refused: never reached the server")
    with h.op("c1", "write", "x", 3):
        raise TimeoutError("no answer")
    with pytest.raises(ZeroDivisionError):
        with h.op("c2", "write", "x", 4):
            1 / 0
    with h.op("c2", "cas", "x", (1, 5)) as op:
        op.fail()                                   # precondition false: it did not happen
    assert [(o.kind, o.value, o.outcome) for o in h] == [
        ("write", 1, "ok"), ("read", 1, "ok"), ("write", 2, "fail"), ("write", 3, "unknown"),
        ("write", 4, "unknown"), ("cas", (1, 5), "fail")]
    assert all(o.complete_ns is not None and o.invoke_ns <= o.complete_ns for o in h)
    assert "c2 read x -> 1 (ok," in h[1].describe() and h[3].end_ms == math.inf


def test_asyncio_ops_and_timeouts():
    """``async with`` works; asyncio.wait_for's TimeoutError records unknown; ops interleave."""
    h = History()

    async def client(name, delay_s):
        async with h.op(name, "write", "x", name):
            await asyncio.sleep(delay_s)
        async with h.op(name, "read", "x") as op:
            await asyncio.wait_for(asyncio.sleep(1), timeout=0.01)
            op.ok("never")

    async def main():
        await asyncio.gather(client("c1", 0.02), client("c2", 0.0))

    asyncio.run(main())
    assert sorted((o.client, o.kind, o.outcome) for o in h) == [
        ("c1", "read", "unknown"), ("c1", "write", "ok"), ("c2", "read", "unknown"), ("c2", "write", "ok")]
    w1 = next(o for o in h if o.client == "c1" and o.kind == "write")
    w2 = next(o for o in h if o.client == "c2" and o.kind == "write")
    assert w1.invoke_ns <= w2.complete_ns and w2.invoke_ns <= w1.complete_ns     # they overlapped


def test_eight_threads_lose_nothing_and_intervals_are_consistent():
    """8 threads x 500 ops: 4000 ops with unique indices, invoke <= complete, each thread's ops in order."""
    h = History()
    start = threading.Barrier(8)

    def run(c):
        start.wait()
        for i in range(500):
            with h.op(f"c{c}", "write" if i % 2 else "read", f"k{i % 3}", i) as op:
                if i % 10 == 0:
                    time.sleep(0.0002)                 # a real call waits: other threads run meanwhile
                if i % 2 == 0:
                    op.ok(i)

    threads = [threading.Thread(target=run, args=(c,)) for c in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(h) == 4000 and sorted(o.index for o in h) == list(range(4000))
    assert all(o.outcome == "ok" and o.invoke_ns <= o.complete_ns for o in h)
    for c in range(8):
        mine = [o for o in h if o.client == f"c{c}"]
        assert len(mine) == 500 and [o.value for o in mine] == list(range(500))
        assert all(a.complete_ns <= b.invoke_ns for a, b in zip(mine, mine[1:]))
    # the threads really ran at the same time: some ops of different clients overlap
    assert any(a.client != b.client and a.invoke_ns < b.complete_ns and b.invoke_ns < a.complete_ns
               for a in h.ops for b in h.ops[a.index + 1:a.index + 8])


def test_low_level_invoke_complete_and_hand_made_ops():
    h = History()
    op = h.invoke("c1", "incr", "n", 2)
    assert op.outcome is None and op.complete_ns is None
    h.complete(op, "timeout")
    assert op.outcome == "unknown"
    with pytest.raises(ValueError, match="outcome"):
        h.complete(op, "maybe")
    h.add("c2", "write", "x", 1, 1.0, 2.5)
    h.add("c3", "read", "x", None, 2.0, None, "unknown")
    assert h[1].invoke_ms == 1.0 and h[1].complete_ms == 2.5 and h[2].complete_ms is None
    with pytest.raises(ValueError, match="before it is invoked"):
        h.add("c1", "write", "x", 1, 5.0, 4.0)
    with pytest.raises(ValueError, match="only unknown ops"):
        h.add("c1", "write", "x", 1, 5.0, None, "ok")
    assert h.clients() == ["c1", "c2", "c3"]


def test_frame_and_json_lines_round_trip(tmp_path):
    """to_frame has one row per op (NaN completion for a never-answered op); save/load keeps everything."""
    h = History()
    h.add("c1", "write", "x", 1, 0.0, 1.0)
    h.add("c2", "cas", "x", (1, 2), 0.5, 2.0, "fail")
    h.add("c10", "append", "l", "a", 1.0, None, "unknown")
    h.add("c2", "write", "y", 7, 3.0, 4.0, deps=[("x", 1)])
    df = h.to_frame()
    assert list(df.columns) == ["index", "client", "kind", "key", "value", "invoke_ms", "complete_ms",
                                "outcome", "deps"]
    assert len(df) == 4 and math.isnan(df.complete_ms[2])
    assert df.outcome.tolist() == ["ok", "fail", "unknown", "ok"]
    back = History.load(h.save(tmp_path / "h.jsonl"))
    as_json = [{**o.to_dict(), "value": list(o.value) if isinstance(o.value, tuple) else o.value} for o in h]
    assert [o.to_dict() for o in back] == as_json
    assert back.clients() == ["c1", "c2", "c10"]                   # natural order
    assert back[1].label() == "cas x 1->2" and back[3].deps == [["x", 1]]
