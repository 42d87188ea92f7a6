"""Graders of chapter 7 labs 4-7 (labsupport/exercises/databases_nosql.py): right answers pass, typical wrong
ones get feedback that says what went wrong; the build-it row key is graded on a real RocksDB."""

from buildit import defined
from grading import ok, wrong
from labsupport.check import get


def test_every_grader_is_registered():
    for ex in ["kv-round-trips", "gin-query", "catch-typo", "write-amplification", "key-for-query",
               "build-event-key", "paths-at-depth", "graph-workload", "recall", "ivf-knob", "vector-memory"]:
        assert callable(get(f"nosql.{ex}"))


def test_kv_round_trips():
    """200 lookups x 0.5 ms = 100 ms; one round trip and seconds are named."""
    ok("nosql.kv-round-trips", 100)
    wrong("nosql.kv-round-trips", 0.5, "pipeline")
    wrong("nosql.kv-round-trips", 200, "0.5 ms")
    wrong("nosql.kv-round-trips", 0.1, "milliseconds")


def test_gin_query_and_typo():
    ok("nosql.gin-query", "a")
    wrong("nosql.gin-query", "b", "b-tree")
    wrong("nosql.gin-query", "c", "range")
    ok("nosql.catch-typo", "B")
    wrong("nosql.catch-typo", "a", "index")
    wrong("nosql.catch-typo", "d", "silent")


def test_write_amplification():
    """(10 + 45) / 10 = 5.5; compaction only, WAL included and an absolute number are named."""
    ok("nosql.write-amplification", 5.5)
    wrong("nosql.write-amplification", 4.5, "flushes")
    wrong("nosql.write-amplification", 6.5, "wal")
    wrong("nosql.write-amplification", 55, "ratio")


def test_key_for_query():
    ok("nosql.key-for-query", "b")
    wrong("nosql.key-for-query", "a", "scanning")
    wrong("nosql.key-for-query", "c", "order")


def test_graph_graders():
    ok("nosql.paths-at-depth", 512)
    wrong("nosql.paths-at-depth", 24, "multiply")
    wrong("nosql.paths-at-depth", 64, "two hops")
    wrong("nosql.paths-at-depth", 584, "exactly 3")
    ok("nosql.graph-workload", "b")
    wrong("nosql.graph-workload", "a", "aggregation")
    wrong("nosql.graph-workload", "c", "key")


def test_vector_graders():
    ok("nosql.recall", 0.7)
    wrong("nosql.recall", 7, "fraction")
    wrong("nosql.recall", 0.3, "missed")
    ok("nosql.ivf-knob", "a")
    wrong("nosql.ivf-knob", "b", "hnsw")
    wrong("nosql.ivf-knob", "c", "rebuild")
    ok("nosql.vector-memory", 3.07)
    wrong("nosql.vector-memory", 0.768, "4 bytes")
    wrong("nosql.vector-memory", 6.144, "float64")
    wrong("nosql.vector-memory", 3072, "gb")


# -- build-it: a binary row key (lab 5), graded on a real RocksDB ----------------------------------
KEY_RIGHT = '''
import struct
def event_key(device_id, ts_ms, seq):
    return struct.pack(">IQI", device_id, ts_ms, seq)
'''
KEY_RIGHT_TO_BYTES = '''
def event_key(device_id, ts_ms, seq):
    return device_id.to_bytes(4, "big") + ts_ms.to_bytes(8, "big") + seq.to_bytes(4, "big")
'''
KEY_LITTLE_ENDIAN = '''
import struct
def event_key(device_id, ts_ms, seq):
    return struct.pack("<IQI", device_id, ts_ms, seq)
'''
KEY_TIME_FIRST = '''
import struct
def event_key(device_id, ts_ms, seq):
    return struct.pack(">QII", ts_ms, device_id, seq)
'''
KEY_NO_SEQ = '''
import struct
def event_key(device_id, ts_ms, seq):
    return struct.pack(">IQ", device_id, ts_ms)
'''
KEY_TEXT = '''
def event_key(device_id, ts_ms, seq):
    return f"{device_id:04d}:{ts_ms:013d}:{seq:06d}".encode()
'''
KEY_SIGNED = '''
import struct
def event_key(device_id, ts_ms, seq):
    return struct.pack(">iqi", device_id, ts_ms, seq)
'''
KEY_SEQ_BEFORE_TS = '''
import struct
def event_key(device_id, ts_ms, seq):
    return struct.pack(">IIQ", device_id, seq, ts_ms)
'''


def _key(src):
    return defined(src, "event_key")


def test_event_key_right():
    """Big-endian device, time, sequence: every range comes back complete, alone and in order."""
    ok("nosql.build-event-key", _key(KEY_RIGHT))
    ok("nosql.build-event-key", _key(KEY_RIGHT_TO_BYTES))


def test_event_key_little_endian_breaks_the_order():
    wrong("nosql.build-event-key", _key(KEY_LITTLE_ENDIAN), "big-endian")


def test_event_key_time_first_mixes_devices():
    wrong("nosql.build-event-key", _key(KEY_TIME_FIRST), "other devices", "device id first")


def test_event_key_without_sequence_overwrites_events():
    wrong("nosql.build-event-key", _key(KEY_NO_SEQ), "overwrote", "sequence number")


def test_event_key_text_is_too_long():
    wrong("nosql.build-event-key", _key(KEY_TEXT), "16")


def test_event_key_signed_formats_overflow():
    wrong("nosql.build-event-key", _key(KEY_SIGNED), "unsigned")


def test_event_key_sequence_before_time_loses_the_range():
    wrong("nosql.build-event-key", _key(KEY_SEQ_BEFORE_TS), "order")


def test_event_key_skeleton_is_not_written_yet():
    def event_key(device_id, ts_ms, seq):
        raise NotImplementedError
    wrong("nosql.build-event-key", event_key, "not written yet")


def test_event_key_graded_inside_the_real_notebook():
    """testbook: the right key and the time-first one, injected into lab 5's build-it cell."""
    from buildit import inject_solutions

    verdicts = inject_solutions("labs/07-databases/05-lsm.ipynb", "nosql.build-event-key",
                                {"right": KEY_RIGHT, "time_first": KEY_TIME_FIRST})
    assert verdicts["right"].ok, verdicts["right"].message
    assert not verdicts["time_first"].ok and "other devices" in verdicts["time_first"].message
