"""Seeded data sets for the NoSQL labs (chapter 7, labs 4-7): the same seed gives the same data.

    feats = feature_table(n_entities=10_000, n_features=20, seed=42)   # feats.ids, .names, .values (float32)
    items = catalogue(n=20_000, seed=42)          # list of dicts with uneven fields (a product catalogue)
    ev = event_log(n=200_000, n_devices=1_000, seed=42)   # ev.device, ev.ts_ms (time-ordered), ev.payload
    g = social_graph(n_users=5_000, follows_per_user=8, n_products=300, seed=42)   # g.follows, g.bought
    X = clustered_vectors(n=20_000, dim=64, seed=42)   # unit-length float32 rows, embedding-like
    PASSAGES                                      # a small bundled text corpus (support notes of an ML platform)

Nothing here downloads anything: every embedding in the labs is computed from these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class FeatureTable:
    ids: np.ndarray          # entity ids, 0..n-1
    names: list[str]         # feature names
    values: np.ndarray       # float32, shape (n_entities, n_features)


def feature_table(n_entities: int = 10_000, n_features: int = 20, seed: int = 42) -> FeatureTable:
    """An online feature store's content: one row of ``n_features`` floats per user."""
    rng = np.random.default_rng(seed)
    names = [f"f{i:02d}" for i in range(n_features)]
    values = rng.normal(size=(n_entities, n_features)).round(4).astype(np.float32)
    return FeatureTable(np.arange(n_entities), names, values)


_CATEGORIES = {
    "shoes": {"size": lambda r: int(r.integers(36, 47)), "color": None, "material": ["leather", "canvas", "mesh"]},
    "laptop": {"ram_gb": lambda r: int(r.choice([8, 16, 32, 64])), "cpu": ["arm", "x86"],
               "screen_in": lambda r: float(r.choice([13.3, 14.0, 15.6, 16.0]))},
    "book": {"author": lambda r: f"author {int(r.integers(1, 400))}", "pages": lambda r: int(r.integers(80, 900)),
             "language": ["en", "fr", "de", "es"]},
    "shirt": {"size": ["S", "M", "L", "XL"], "color": None, "sleeve": ["short", "long"]},
    "headphones": {"wireless": [True, False], "color": None, "battery_h": lambda r: int(r.integers(10, 60))},
}
COLORS = ["black", "white", "red", "blue", "green", "grey"]


def catalogue(n: int = 20_000, seed: int = 42) -> list[dict]:
    """Products whose fields depend on their category (shoes have a size, laptops RAM, books an author)."""
    rng = np.random.default_rng(seed)
    cats = list(_CATEGORIES)
    out = []
    for i in range(n):
        cat = cats[int(rng.integers(len(cats)))]
        doc = {"sku": f"sku-{i:06d}", "category": cat, "price": round(float(rng.uniform(5, 2000)), 2)}
        for field, gen in _CATEGORIES[cat].items():
            if gen is None:
                doc[field] = COLORS[int(rng.integers(len(COLORS)))]
            elif callable(gen):
                doc[field] = gen(rng)
            else:
                doc[field] = gen[int(rng.integers(len(gen)))]
        if rng.random() < 0.1:  # some products carry optional extras
            doc["tags"] = [str(t) for t in rng.choice(["sale", "new", "eco", "bestseller"], size=2, replace=False)]
        out.append(doc)
    return out


@dataclass
class EventLog:
    device: np.ndarray       # int, which device sent the event
    ts_ms: np.ndarray        # int, milliseconds since the start; non-decreasing (events arrive in time order)
    payload: list[bytes]     # incompressible bytes, one per event


def event_log(n: int = 200_000, n_devices: int = 1_000, payload_bytes: int = 100, seed: int = 42) -> EventLog:
    """An append-heavy log: events from many devices interleaved, in arrival (time) order."""
    rng = np.random.default_rng(seed)
    device = rng.integers(0, n_devices, size=n)
    ts_ms = np.cumsum(rng.integers(0, 3, size=n))          # ~1 ms apart, several may share a millisecond
    raw = rng.integers(0, 256, size=(n, payload_bytes), dtype=np.uint8)
    return EventLog(device, ts_ms, [row.tobytes() for row in raw])


@dataclass
class SocialGraph:
    n_users: int
    n_products: int
    follows: np.ndarray      # (m, 2) int: user -> user it follows (no self-loops, no duplicates)
    bought: np.ndarray       # (p, 2) int: user -> product (no duplicates)


def social_graph(n_users: int = 5_000, follows_per_user: int = 8, n_products: int = 300,
                 buys_per_user: int = 4, seed: int = 42) -> SocialGraph:
    """Who follows whom (uniform) and who bought what (Zipf-popular products), for recommendation queries."""
    rng = np.random.default_rng(seed)
    src = np.repeat(np.arange(n_users), follows_per_user)
    dst = rng.integers(0, n_users, size=src.size)
    follows = np.unique(np.c_[src, dst][src != dst], axis=0)
    weights = 1 / np.arange(1, n_products + 1)
    users = np.repeat(np.arange(n_users), buys_per_user)
    prods = rng.choice(n_products, size=users.size, p=weights / weights.sum())
    bought = np.unique(np.c_[users, prods], axis=0)
    return SocialGraph(n_users, n_products, follows, bought)


def clustered_vectors(n: int = 20_000, dim: int = 64, latent_dim: int = 16, n_clusters: int = 50,
                      spread: float = 0.5, noise: float = 0.1, seed: int = 42, space_seed: int = 42) -> np.ndarray:
    """Unit-length float32 vectors shaped like embeddings: clusters in a ``latent_dim`` space, projected
    to ``dim`` dimensions, plus a little noise. ``space_seed`` fixes the clusters and the projection, so
    queries drawn with another ``seed`` come from the same distribution."""
    space = np.random.default_rng(space_seed)
    centres = space.normal(size=(n_clusters, latent_dim))
    projection = space.normal(size=(latent_dim, dim))
    rng = np.random.default_rng(seed)
    z = centres[rng.integers(0, n_clusters, size=n)] + spread * rng.normal(size=(n, latent_dim))
    x = z @ projection + noise * rng.normal(size=(n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


# A bundled corpus for the retrieval example: short support notes of an imaginary ML platform.
PASSAGES = [
    "To roll back a model deployment, point the serving alias back to the previous version in the model registry; traffic moves within a minute.",
    "The model registry stores every trained version with its metrics, the commit of the training code and the data snapshot it was trained on.",
    "Canary releases send five percent of prediction traffic to the new model version and compare error rates before the full rollout.",
    "Online features are read from the key-value store at prediction time; each user is one hash keyed by user id.",
    "Offline features live in the warehouse and are joined point in time to training labels so that no future value leaks into training.",
    "Training-serving skew happens when the online feature pipeline computes a feature differently from the offline pipeline.",
    "Feature freshness is monitored: an alert fires when a streaming feature has not been updated for ten minutes.",
    "Experiment tracking records the hyperparameters, metrics and artifacts of every training run so results can be compared and reproduced.",
    "GPU quota is assigned per team; a training job that exceeds its quota waits in the queue until capacity frees up.",
    "Batch inference jobs read input tables, run the model on each partition and write predictions back with the model version attached.",
    "The prediction cache keys each answer by model version and normalised input, with a time to live of five minutes.",
    "API keys for the prediction service are rotated every ninety days; old keys keep working for one week after rotation.",
    "Rate limits on the prediction API are one hundred requests per second per key; clients that exceed them receive status 429.",
    "Latency of the ranking model is measured at p50 and p99; the p99 budget for the whole request is two hundred milliseconds.",
    "Embeddings for the product catalogue are recomputed nightly and written to the vector index used for similar item search.",
    "The vector index uses HNSW; raising ef_search improves recall at the cost of slower queries.",
    "Retrieval augmented generation fetches the most similar passages from the vector store and adds them to the prompt of the language model.",
    "Data labelling tasks are sent to annotators in batches; each label records who made it and when.",
    "Drift monitoring compares the distribution of live features with the training distribution and alerts on large shifts.",
    "Model explanations are computed with feature attributions for a sample of requests and stored next to the predictions.",
    "To delete a user's data, the privacy job removes their rows from the feature store, the event log and the training snapshots.",
    "The event log keeps every click and view as an append-only stream partitioned by user id, retained for thirty days.",
    "A/B tests assign users to variants by hashing the user id, so a user always sees the same variant.",
    "Checkpoints of long training runs are saved every hour to object storage so a preempted job can resume.",
    "The recommendation service blends collaborative filtering with a graph of users who bought the same items.",
    "Fraud detection looks for rings of accounts that share devices, cards or addresses, a query that walks several hops of the graph.",
    "The evaluation suite runs every candidate model on a frozen test set and a set of slices before it can be registered as production.",
    "When the feature store is unavailable the ranking service falls back to default feature values and logs the degraded requests.",
    "Model weights are distributed to serving nodes through a content delivery network, cached by the file's content hash.",
    "Schema changes to event payloads must be backward compatible: new fields are optional and old fields are never renamed.",
]
