"""Embedded database engines for the NoSQL labs: libraries inside the lab's process, not servers.

    from labsupport.engines import rocks, graph, vectors
    lsm = rocks.open_lsm(memtable_kb=1024)           # RocksDB (rocksdict) in a fresh folder
    lsm.write_batch(pairs, sync=True); lsm.counters()   # bytes written by flushes and compactions, files per level
    g = graph.open_graph(); g.query("MATCH (u:User) RETURN count(*)")   # ladybug (Cypher)
    idx = vectors.faiss_index("hnsw", X, m=32); vectors.recall_at_k(found, truth)

Each opens in a temporary folder that is removed at exit; ``close()`` releases it earlier.
The servers (PostgreSQL, Valkey) stay in ``labsupport.services``.
"""
