"""The cache-aside client in front of the stand-in chatbot model (``labsupport.apps.chatbot``).

    chat = CachedChat(r.client(), llm.url, normalise=True, ttl_s=300)  # Redis in front of the model
    chat.ask("What is the capital of France?")                         # {"answer": .., "cache": "hit"}
    run = serve_workload(chat, prompts, concurrency=8)                 # hit rate, GPU calls, latencies
"""

from __future__ import annotations

import hashlib
import json
import threading

import httpx

from ..sim.prompts import normalise_prompt


class CachedChat:
    """Look the prompt up in Redis; on a miss, ask the model and store the answer with a TTL."""

    def __init__(self, redis_client, model_url: str, normalise: bool = True, ttl_s: int = 300,
                 model_version: str = "v1"):
        self.redis, self.normalise, self.ttl_s = redis_client, normalise, ttl_s
        self.prefix = f"chat:{model_version}:"
        self.http = httpx.Client(base_url=model_url, timeout=30)

    def key(self, prompt: str) -> str:
        text = normalise_prompt(prompt) if self.normalise else prompt
        return self.prefix + hashlib.sha1(text.encode()).hexdigest()

    def ask(self, prompt: str) -> dict:
        key = self.key(prompt)
        cached = self.redis.get(key)
        if cached is not None:
            return {**json.loads(cached), "cache": "hit"}
        reply = self.http.post("/chat", json={"prompt": prompt}).raise_for_status().json()
        self.redis.set(key, json.dumps(reply), ex=self.ttl_s)
        return {**reply, "cache": "miss"}

    def model_stats(self) -> dict:
        return self.http.get("/stats").json()

    def reset(self) -> None:
        """Empty the cache and zero the model's counters, for a fresh run."""
        for key in self.redis.scan_iter(self.prefix + "*", count=1000):
            self.redis.delete(key)
        self.http.post("/stats/reset").raise_for_status()


def serve_workload(chat: CachedChat, prompts: list[str], concurrency: int = 8, desc: str = "") -> dict:
    """Send every prompt through ``chat`` (``concurrency`` users at once) from an empty cache.

    Returns what the client saw (hits, latency of hits and misses) beside what the model counted
    (GPU calls, GPU ms), so the two can be compared.
    """
    from ..measure import progress, run_load  # noqa: PLC0415

    chat.reset()
    bar = progress(range(len(prompts)), desc or "prompts")
    lock = threading.Lock()

    def one(prompt):
        reply = chat.ask(prompt)
        with lock:
            bar.update(1)
        return reply

    res = run_load(one, n=len(prompts), concurrency=concurrency, args=prompts)
    bar.close()
    stats = chat.model_stats()
    hits = [r["cache"] == "hit" for r in res.results]
    lat = list(zip(res.latencies_ms, hits))
    n = len(prompts)
    return {
        "requests": n, "errors": res.errors, "hits": sum(hits), "hit_rate": sum(hits) / n,
        "gpu_calls": stats["gpu_calls"], "gpu_calls_saved_fraction": 1 - stats["gpu_calls"] / n,
        "gpu_ms_spent": stats["gpu_ms"],
        "gpu_ms_saved": sum(r["gpu_ms"] for r in res.results if r["cache"] == "hit"),
        "hit_latency_ms": [ms for ms, h in lat if h], "miss_latency_ms": [ms for ms, h in lat if not h],
        "wall_s": res.elapsed_s,
    }
