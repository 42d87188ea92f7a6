"""RocksDB, an LSM-tree engine, through rocksdict; sized small so a lab sees flushes and compactions.

    lsm = open_lsm(memtable_kb=1024, level1_mb=4)       # a fresh RocksDB in a temporary folder
    lsm.write_batch([(key, value), ...], sync=True)     # one atomic batch (one WAL fsync when sync=True)
    lsm.put(key, value); lsm.get(key)
    list(lsm.scan(start, end))                          # [(key, value)] with start <= key < end, in key order
    c = lsm.counters()    # user_bytes, wal_bytes, flush_bytes, compaction_write_bytes, write_amplification,
                          # files_per_level, l0_files, sst_bytes, compactions
    lsm.compact(); lsm.close()

RocksDB's own statistics (``rocksdb.*`` tickers) and DB properties are the source of every counter;
see chapter 7's NoSQL page for what they mean.
"""

from __future__ import annotations

import re
from pathlib import Path

from rocksdict import DBCompressionType, Options, Rdict, WriteBatch, WriteOptions

from ._tmp import remove, workdir

_TICKERS = {"user_bytes": "rocksdb.bytes.written", "wal_bytes": "rocksdb.wal.bytes",
            "flush_bytes": "rocksdb.flush.write.bytes", "compaction_write_bytes": "rocksdb.compact.write.bytes",
            "compaction_read_bytes": "rocksdb.compact.read.bytes"}


class LSM:
    """One RocksDB database (see module docstring)."""

    def __init__(self, path: Path, memtable_kb: int = 1024, level1_mb: int = 4, l0_trigger: int = 4,
                 compress: bool = False):
        self.path = path
        opt = Options(raw_mode=True)
        opt.create_if_missing(True)
        opt.enable_statistics()
        opt.set_write_buffer_size(memtable_kb * 1024)        # memtable size: a flush every this many bytes
        opt.set_target_file_size_base(memtable_kb * 1024)
        opt.set_max_bytes_for_level_base(level1_mb * 1024 * 1024)
        opt.set_level_zero_file_num_compaction_trigger(l0_trigger)
        opt.set_level_compaction_dynamic_level_bytes(False)   # classic levelling: L1 = level1_mb, L2 = 10x ...
        if not compress:
            opt.set_compression_type(DBCompressionType.none())
        self._opt = opt
        self.db = Rdict(str(path), opt)

    # -- writes and reads -------------------------------------------------------------------------
    def put(self, key: bytes, value: bytes, sync: bool = False) -> None:
        wo = WriteOptions()
        wo.sync = sync
        self.db.put(key, value, wo)

    def write_batch(self, pairs, sync: bool = False) -> None:
        """Write ``pairs`` atomically in one batch; ``sync=True`` fsyncs the WAL before returning."""
        wb = WriteBatch(raw_mode=True)
        for k, v in pairs:
            wb.put(k, v)
        wo = WriteOptions()
        wo.sync = sync
        self.db.write(wb, wo)

    def get(self, key: bytes):
        return self.db.get(key)

    def scan(self, start: bytes, end: bytes):
        """Yield (key, value) for start <= key < end, in key order: one seek, then next, next, ..."""
        it = self.db.iter()
        it.seek(start)
        while it.valid():
            k = it.key()
            if k >= end:
                break
            yield k, it.value()
            it.next()

    def flush(self) -> None:
        self.db.flush()

    def compact(self) -> None:
        """Compact the whole key range now (what background compaction would do eventually)."""
        self.db.compact_range(None, None)

    # -- what the engine says about itself --------------------------------------------------------
    def stats_text(self) -> str:
        return self.db.property_value("rocksdb.stats") or ""

    def counters(self) -> dict:
        """RocksDB's own tickers and properties, in bytes and file counts."""
        text = self._opt.get_statistics() or ""
        out = {}
        for name, ticker in _TICKERS.items():
            m = re.search(rf"^{re.escape(ticker)} COUNT : (\d+)", text, re.M)
            out[name] = int(m.group(1)) if m else 0
        levels = {}
        for line in (self.db.property_value("rocksdb.levelstats") or "").splitlines():
            m = re.match(r"\s*(\d+)\s+(\d+)\s+", line)
            if m:
                levels[f"L{m.group(1)}"] = int(m.group(2))
        out["files_per_level"] = levels
        out["l0_files"] = levels.get("L0", 0)
        out["sst_bytes"] = self.db.property_int_value("rocksdb.total-sst-files-size") or 0
        # Compaction Stats table: Comp(cnt) is the 6th column from the end; on L0 it counts flushes.
        runs = {m.group(1): int(m.group(2).split()[-6])
                for m in re.finditer(r"^\s*L(\d)\s+(.*)$", self.stats_text().split("** Compaction Stats")[1], re.M)}
        out["flushes"] = runs.get("0", 0)
        out["compactions"] = sum(v for k, v in runs.items() if k != "0")
        written = out["flush_bytes"] + out["compaction_write_bytes"]
        out["write_amplification"] = (written / out["user_bytes"]) if out["user_bytes"] else 0.0
        return out

    def close(self) -> None:
        try:
            self.db.close()
        finally:
            remove(self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_lsm(memtable_kb: int = 1024, level1_mb: int = 4, l0_trigger: int = 4, compress: bool = False) -> LSM:
    """A fresh RocksDB in a temporary folder (removed at exit or on ``close()``)."""
    return LSM(workdir("rocksdb"), memtable_kb=memtable_kb, level1_mb=level1_mb, l0_trigger=l0_trigger,
               compress=compress)
