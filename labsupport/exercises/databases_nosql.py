"""Graders for chapter 7, Databases, labs 4-7: the five NoSQL models (labs/07-databases/04-07).

The reasoning behind each answer is in the lab's dropdown solution; the build-it grader
(``nosql.build-event-key``) writes the learner's keys into a real RocksDB and scans them."""

from __future__ import annotations

import math
import random
import struct

from ..check import Feedback, close_to, grader, one_of


# -- lab 4: key-value and document ----------------------------------------------------------------
@grader("nosql.kv-round-trips")
def kv_round_trips(answer) -> Feedback:
    """200 lookups one at a time, 0.5 ms per round trip."""
    return close_to(answer, 100, rel=0.1, unit=" ms", hints={
        0.5: "That is one round trip: what a pipeline (or one ANY() query) would cost. One HGETALL at a "
             "time pays a round trip per user.",
        200: "That counts 1 ms per lookup; the round trip here is 0.5 ms.",
        0.1: "Give the answer in milliseconds, not seconds.",
    })


@grader("nosql.gin-query")
def gin_query(answer) -> Feedback:
    return one_of(answer, "a", {
        "a": "Right: a jsonb_path_ops GIN index serves containment (@>), with one or many key-value pairs.",
        "b": "An equality on an extracted field (doc->>'language') is an expression the GIN index does not "
             "cover; it needs a B-tree index on (doc->>'language'). The lab showed it as a sequential scan.",
        "c": "A range on a cast field needs a B-tree index on ((doc->>'pages')::int); GIN has no order.",
    })


@grader("nosql.catch-typo")
def catch_typo(answer) -> Feedback:
    return one_of(answer, "b", {
        "a": "An index only makes reads faster; it indexes the misspelt document as happily as any other.",
        "b": "Right: removing every known field must leave {}, so an unknown field fails the CHECK at write time.",
        "c": "NOT NULL only refuses a missing document; a document with a misspelt field is not null.",
        "d": "A query just does not find the misspelt document: that is the silent failure, not a cure.",
    })


# -- lab 5: LSM (RocksDB) ---------------------------------------------------------------------------
@grader("nosql.write-amplification")
def write_amplification(answer) -> Feedback:
    """The app wrote 10 GB; flushes wrote 10 GB and compactions 45 GB: bytes written per user byte."""
    return close_to(answer, 5.5, rel=0.03, unit="x", hints={
        4.5: "That counts compaction only; the memtable flushes are writes to disk too (10 + 45 GB).",
        6.5: "The WAL is not part of this count here: flushes plus compactions, divided by what the app wrote.",
        55: "Divide by the 10 GB the application wrote: amplification is a ratio.",
    })


@grader("nosql.key-for-query")
def key_for_query(answer) -> Feedback:
    return one_of(answer, "b", {
        "a": "With the time first, one sensor's readings are spread among every other sensor's: reading one "
             "sensor's last hour means scanning the whole hour of every sensor.",
        "b": "Right: the sensor id first (the partition key, in Cassandra's words) keeps its readings together, "
             "and the time next (the clustering key) keeps them in order, so the query is one seek and a short scan.",
        "c": "A random key spreads writes evenly but destroys order: no range scan can find one sensor's hour.",
    })


_BUILD_N = 6_000
_BUILD_DEVICES = [0, 1, 7, 9, 10, 11, 99, 100, 1234, 12345, 65_535, 70_000, 2**31 + 5]


def _events(seed: int = 7):
    """(device, ts_ms, seq) with several events per millisecond and timestamps of many digit lengths."""
    rng = random.Random(seed)
    out, ts = [], 5
    for i in range(_BUILD_N):
        ts += rng.choice([0, 0, 1, 3, 50, 997])       # 0: the same millisecond as the previous event
        if i == _BUILD_N // 2:
            ts += 10**12                                # timestamps jump from 4 to 13 digits
        out.append((rng.choice(_BUILD_DEVICES), ts, i))
    return out


def _ask(event_key, *args):
    key = event_key(*args)
    if isinstance(key, str):
        key = key.encode()
    if not isinstance(key, (bytes, bytearray)):
        raise TypeError(f"event_key must return bytes, got {type(key).__name__}")
    return bytes(key)


@grader("nosql.build-event-key")
def build_event_key(event_key) -> Feedback:
    """Writes 6,000 events under ``event_key(device_id, ts_ms, seq)`` into a real RocksDB, then asks for
    time ranges of single devices with one seek and a scan between two keys."""
    from ..engines import rocks  # noqa: PLC0415

    if not callable(event_key):
        return Feedback(False, "Pass the function itself: check(..., event_key).")
    events = _events()
    with rocks.open_lsm(memtable_kb=64) as lsm:   # small memtable: the data really goes through flushes
        try:
            keys = [_ask(event_key, d, t, s) for d, t, s in events]
        except NotImplementedError:
            raise
        except Exception as exc:  # noqa: BLE001 - the learner's code failed: say where
            return Feedback(False, f"event_key raised {type(exc).__name__}: {exc}. Device ids go up to 2**32 - 1, "
                                   "timestamps up to 2**63 - 1, sequence numbers up to 2**32 - 1 (all unsigned).")
        longest = max(keys, key=len)
        if len(longest) > 16:
            return Feedback(False, f"A key is {len(longest)} bytes ({longest[:24]!r}...). Every key is stored in every "
                                   "SST file and index block it passes through; make it fixed-width binary: "
                                   "4 bytes of device id, 8 of timestamp, 4 of sequence number, 16 in all.")
        for start in range(0, len(events), 500):
            lsm.write_batch(((k, struct.pack(">QQQ", *e)) for k, e in zip(keys[start:start + 500],
                                                                          events[start:start + 500])))
        stored = sum(1 for _ in lsm.scan(b"", b"\xff" * 64))
        if stored < len(events):
            return Feedback(False, f"{len(events)} events were written but RocksDB holds {stored}: keys collided "
                                   "and later events overwrote earlier ones. Two events of one device can share "
                                   "a millisecond; put the sequence number in the key too.")
        rng = random.Random(11)
        for device in _BUILD_DEVICES:
            mine = sorted((t, s) for d, t, s in events if d == device)
            for _ in range(4):
                lo = rng.choice(mine)[0]
                hi = max(lo + 1, rng.choice(mine)[0] + 1)
                lo, hi = min(lo, hi - 1), max(lo + 1, hi)
                got = [struct.unpack(">QQQ", v) for _, v in lsm.scan(_ask(event_key, device, lo, 0),
                                                                       _ask(event_key, device, hi, 0))]
                want = [(device, t, s) for t, s in mine if lo <= t < hi]
                others = [g for g in got if g[0] != device]
                if others:
                    return Feedback(False, f"Scanning device {device} from ts {lo} to {hi} also returned {len(others)} "
                                           f"events of other devices (e.g. device {others[0][0]}). A device's events "
                                           "must be contiguous: put the device id first, in a fixed width, so "
                                           "no other device's keys fall between two of its keys.")
                if sorted(got) != want:
                    return Feedback(False, f"Scanning device {device} from ts {lo} to {hi} returned {len(got)} events; "
                                           f"it holds {len(want)} in that range. Byte order must equal numeric "
                                           "order: fixed-width big-endian integers (struct.pack('>IQI', ...)) sort "
                                           "correctly; decimal text without padding or little-endian bytes do not.")
                if got != sorted(got, key=lambda g: (g[1], g[2])):
                    return Feedback(False, f"Device {device}'s events came back out of time order: the timestamp "
                                           "must follow the device id in the key, before the sequence number.")
    return Feedback(True, f"Right: {len(events)} events stored without a collision, and every device's time range "
                          "came back complete, alone and in order, from one seek and a scan.")


# -- lab 6: graph -------------------------------------------------------------------------------------
@grader("nosql.paths-at-depth")
def paths_at_depth(answer) -> Feedback:
    """8 follows each, every path of exactly 3 hops."""
    return close_to(answer, 512, rel=0.02, unit=" paths", hints={
        24: "That adds the follows (8 + 8 + 8); paths multiply: each of the 8 first hops has 8 second hops...",
        64: "That is two hops (8 x 8); the question asks for three.",
        584: "That counts paths of 1, 2 and 3 hops together; the question asks for exactly 3.",
    })


@grader("nosql.graph-workload")
def graph_workload(answer) -> Feedback:
    return one_of(answer, "b", {
        "a": "An aggregation over many rows by category and day: a relational or columnar analytics database.",
        "b": "Right: a variable-depth walk over relationships is the graph engine's job.",
        "c": "A single lookup by key: a key-value store or a primary-key index does it; no traversal at all.",
    })


# -- lab 7: vectors -----------------------------------------------------------------------------------
@grader("nosql.recall")
def recall(answer) -> Feedback:
    value = float(answer)
    if value > 1:
        return Feedback(False, "Give recall as a fraction between 0 and 1 (7 of 10 is 0.7).")
    return close_to(value, 0.7, rel=0.01, hints={
        0.3: "That is the share of true neighbours the index missed; recall is the share it found.",
    })


@grader("nosql.ivf-knob")
def ivf_knob(answer) -> Feedback:
    return one_of(answer, "a", {
        "a": "Right: probes is how many IVF cells a query scans; more cells, higher recall, slower queries.",
        "b": "hnsw.ef_search tunes HNSW indexes; an IVFFlat index ignores it.",
        "c": "Fewer, bigger lists do raise recall at probes = 1, but only after a rebuild, and every query "
             "then scans more: the same trade, fixed at build time. The query-time knob is probes.",
    })


@grader("nosql.vector-memory")
def vector_memory(answer) -> Feedback:
    """10**6 vectors x 768 float32."""
    return close_to(answer, 3.072, rel=0.05, unit=" GB", hints={
        0.768: "Each float32 takes 4 bytes, not 1.",
        6.144: "float32 is 4 bytes; 8 is float64.",
        3072: "Give the answer in GB (1 GB = 10**9 bytes), not MB.",
    })
