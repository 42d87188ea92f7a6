"""A graph database in the lab's process: ladybug (a maintained fork of Kùzu), queried in Cypher.

    g = open_graph()
    g.execute("CREATE NODE TABLE User(id INT64, PRIMARY KEY(id))")
    g.execute("CREATE REL TABLE Follows(FROM User TO User)")
    g.load("User", ids)                      # bulk load with COPY (a CSV in the graph's folder)
    g.load("Follows", pairs)                 # (n, 2) array of (from id, to id)
    g.query("MATCH (a:User {id: $id})-[:Follows]->(b) RETURN b.id", {"id": 7})   # -> list of tuples
    g.close()

Edges are stored as adjacency lists, so following one is a lookup, not a join (chapter 7's NoSQL page).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._tmp import remove, workdir


class Graph:
    """One ladybug database (see module docstring)."""

    def __init__(self, path: Path):
        import ladybug  # noqa: PLC0415 - imported on use: it is only needed by the graph lab

        self.path = path
        self.db = ladybug.Database(str(path / "graph"))
        self.conn = ladybug.Connection(self.db)
        self._loads = 0

    def execute(self, cypher: str, params: dict | None = None):
        return self.conn.execute(cypher, params or {})

    def query(self, cypher: str, params: dict | None = None) -> list[tuple]:
        """Run ``cypher`` and return every row as a tuple."""
        res = self.conn.execute(cypher, params or {})
        rows = []
        while res.has_next():
            rows.append(tuple(res.get_next()))
        return rows

    def load(self, table: str, rows) -> None:
        """Bulk-load node ids (1-D) or edges ((n, 2) from/to ids) into ``table`` with COPY."""
        arr = np.asarray(rows)
        self._loads += 1
        csv = self.path / f"load-{self._loads}.csv"
        np.savetxt(csv, arr.reshape(len(arr), -1), fmt="%d", delimiter=",")
        self.conn.execute(f"COPY {table} FROM '{csv.as_posix()}' (header=false)")
        csv.unlink()

    def close(self) -> None:
        try:
            self.conn.close()
            self.db.close()
        finally:
            remove(self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_graph() -> Graph:
    """A fresh, empty ladybug database in a temporary folder (removed at exit or on ``close()``)."""
    return Graph(workdir("graph"))
