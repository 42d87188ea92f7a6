"""A stand-in chatbot model (the "LLM") and the cache-aside client that sits in front of it.

    llm = services.app("labsupport.apps.chatbot:app")                  # the model, a real process
    POST /chat {"prompt": "..."}  -> {"answer": ..., "tokens": 70, "gpu_ms": 9.0}
    GET  /stats                   -> {"requests": .., "gpu_calls": .., "gpu_ms": ..}
    chat = CachedChat(r.client(), llm.url, normalise=True, ttl_s=300)  # Redis in front of it
    chat.ask("What is the capital of France?")                         # {"answer": .., "cache": "hit"}
    run = serve_workload(chat, prompts, concurrency=8)                 # hit rate, GPU calls, latencies

Every call costs GPU time: a prefill per prompt word plus a decode per answer token. The stand-in
writes TOKENS_PER_WORD answer tokens per prompt word (a short factual question gets a short answer,
a long request a long one), waiting TOKEN_MS per token as if a GPU elsewhere were busy. The times
are scaled down about 100x from a real LLM so a lab runs in seconds; the ratios are what matter.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import threading

import httpx
from pydantic import BaseModel

from ..sim.prompts import normalise_prompt
from ._common import REPLICA, lab_app

PREFILL_MS_PER_WORD = float(os.environ.get("PREFILL_MS_PER_WORD", "0.1"))
TOKEN_MS = float(os.environ.get("TOKEN_MS", "0.1"))
TOKENS_PER_WORD = int(os.environ.get("TOKENS_PER_WORD", "10"))
MAX_TOKENS = int(os.environ.get("MAX_TOKENS", "400"))


def answer_tokens(prompt: str) -> int:
    return min(MAX_TOKENS, TOKENS_PER_WORD * max(1, len(prompt.split())))


def gpu_ms(prompt: str) -> float:
    """What one model call on ``prompt`` costs, in (scaled) GPU milliseconds."""
    return PREFILL_MS_PER_WORD * len(prompt.split()) + TOKEN_MS * answer_tokens(prompt)


class ChatRequest(BaseModel):
    prompt: str


app = lab_app("chatbot")
app.state.counters.update(gpu_calls=0, gpu_ms=0.0)


@app.post("/chat")
async def chat(req: ChatRequest):
    cost = gpu_ms(req.prompt)
    await asyncio.sleep(cost / 1000)
    counters = app.state.counters
    counters["gpu_calls"] += 1
    counters["gpu_ms"] += cost
    digest = hashlib.sha1(normalise_prompt(req.prompt).encode()).hexdigest()[:8]
    return {"answer": f"[answer {digest}, {answer_tokens(req.prompt)} tokens]", "tokens": answer_tokens(req.prompt),
            "gpu_ms": cost, "replica": REPLICA}


# -- the client side: cache-aside in front of the model ---------------------------------------
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
