"""Vector search: exact answers, recall, FAISS indexes, pgvector helpers, and offline text embeddings.

    truth = exact_topk(X, Q, k=10)                      # brute force: the right answer, ids (nq, k)
    recall_at_k(found, truth)                           # mean share of the true top k that was found
    idx = faiss_index("hnsw", X, m=32)                  # or "flat", "ivf" (nlist=...); idx.index is faiss's
    ids = idx.search(Q, k=10, ef_search=64)             # or nprobe=8 for "ivf"
    idx.build_s, idx.bytes                              # build time, serialised size
    pg_load(conn, "items", X)                           # CREATE TABLE items(id, emb vector(d)) + COPY
    pg_topk(conn, "items", q, k=10)                     # SELECT id ... ORDER BY emb <=> q LIMIT k
    emb = TextEmbedder(dim=24).fit(passages); emb.encode(["question"])   # TF-IDF + SVD, no download

Vectors are unit length, so cosine distance, inner product and Euclidean order agree.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np


def exact_topk(X: np.ndarray, Q: np.ndarray, k: int = 10) -> np.ndarray:
    """Ids of the ``k`` rows of X most similar (inner product) to each query: ground truth."""
    sims = Q @ X.T
    top = np.argpartition(-sims, k, axis=1)[:, :k]
    order = np.take_along_axis(sims, top, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(top, order, axis=1)


def recall_at_k(found, truth) -> float:
    """Mean over queries of |found ∩ truth| / k."""
    return float(np.mean([len(set(map(int, f)) & set(map(int, t))) / len(t) for f, t in zip(found, truth)]))


@dataclass
class FaissIndex:
    kind: str
    index: object
    build_s: float
    bytes: int

    def search(self, Q: np.ndarray, k: int = 10, ef_search: int | None = None, nprobe: int | None = None):
        import faiss  # noqa: PLC0415

        if ef_search is not None:
            self.index.hnsw.efSearch = ef_search
        if nprobe is not None:
            faiss.extract_index_ivf(self.index).nprobe = nprobe
        _, ids = self.index.search(np.ascontiguousarray(Q, dtype=np.float32), k)
        return ids


def faiss_index(kind: str, X: np.ndarray, m: int = 32, ef_construction: int = 40, nlist: int = 100) -> FaissIndex:
    """Build a FAISS index over X (inner product): "flat" (exact), "hnsw" or "ivf"; timed and sized."""
    import faiss  # noqa: PLC0415

    faiss.omp_set_num_threads(1)  # one core, like one PostgreSQL backend: a fair comparison
    d = X.shape[1]
    X = np.ascontiguousarray(X, dtype=np.float32)
    t0 = time.perf_counter()
    if kind == "flat":
        index = faiss.IndexFlatIP(d)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
    elif kind == "ivf":
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(X)
    else:
        raise ValueError(f"kind is 'flat', 'hnsw' or 'ivf', not {kind!r}")
    index.add(X)
    build_s = time.perf_counter() - t0
    return FaissIndex(kind, index, build_s, int(faiss.serialize_index(index).size))


# -- pgvector ----------------------------------------------------------------------------------------
def literal(v) -> str:
    """A vector as pgvector's text form, '[0.1,0.2,...]'."""
    return "[" + ",".join(f"{x:.6f}" for x in v) + "]"


def pg_load(conn, table: str, X: np.ndarray, texts: list[str] | None = None) -> None:
    """(Re)create ``table(id int primary key, emb vector(d)[, body text])`` and COPY X into it."""
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    extra = ", body text" if texts is not None else ""
    conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, emb vector({X.shape[1]}){extra})")
    cols = "id, emb, body" if texts is not None else "id, emb"
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
        for i, v in enumerate(X):
            cp.write_row((i, literal(v), texts[i]) if texts is not None else (i, literal(v)))


def pg_topk(conn, table: str, q, k: int = 10, columns: str = "id") -> list:
    """The ``k`` nearest rows by cosine distance (``<=>``); uses an index if one exists."""
    rows = conn.execute(f"SELECT {columns} FROM {table} ORDER BY emb <=> %s::vector LIMIT {int(k)}",
                        (literal(q),)).fetchall()
    return [r[0] if len(r) == 1 else r for r in rows]


# -- offline text embeddings --------------------------------------------------------------------------
_WORD = re.compile(r"[a-z0-9]+")
_STOP = set("a an and are as at be by each every for from has in is it its of on or so that the their them "
            "they this to when which with within".split())


def tokens(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


class TextEmbedder:
    """TF-IDF, then a truncated SVD (latent semantic analysis): dense unit vectors, computed offline.

    It matches shared words and words that co-occur in the corpus; a trained embedding model would
    also match meanings the corpus never puts together."""

    def __init__(self, dim: int = 24):
        self.dim = dim

    def fit(self, texts: list[str]) -> "TextEmbedder":
        docs = [Counter(tokens(t)) for t in texts]
        self.vocab = {w: i for i, w in enumerate(sorted({w for d in docs for w in d}))}
        df = np.zeros(len(self.vocab))
        for d in docs:
            for w in d:
                df[self.vocab[w]] += 1
        self.idf = np.log((1 + len(docs)) / (1 + df)) + 1
        tfidf = self._tfidf(texts)
        _, _, vt = np.linalg.svd(tfidf, full_matrices=False)
        self.components = vt[: self.dim]
        return self

    def _tfidf(self, texts: list[str]) -> np.ndarray:
        m = np.zeros((len(texts), len(self.vocab)))
        for r, t in enumerate(texts):
            for w, c in Counter(tokens(t)).items():
                if w in self.vocab:
                    m[r, self.vocab[w]] = (1 + np.log(c)) * self.idf[self.vocab[w]]
        norms = np.linalg.norm(m, axis=1, keepdims=True)
        return m / np.where(norms == 0, 1, norms)

    def encode(self, texts: list[str]) -> np.ndarray:
        z = self._tfidf(texts) @ self.components.T
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        return (z / np.where(norms == 0, 1, norms)).astype(np.float32)
