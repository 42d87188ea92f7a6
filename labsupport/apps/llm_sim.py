"""A stand-in LLM server for the load-balancing labs: shared generation lanes, a prefix cache, a role.

    POST /generate  {"tokens": 1000}   header X-Prefix: sys-7   -> {"tokens", "replica", "prefix_hit", "ms"}
    POST /api/chat  {"tokens": 10}     (ROLE "chat" or "any"; an "embed" replica answers 404)
    POST /api/embed {"text": "hi"}     (ROLE "embed" or "any"; a "chat" replica answers 404)
    GET  /stats -> requests, in_flight, max_in_flight, prefix_hits, prefix_misses, generating
    GET  /info  -> role, lanes, token_ms, prefix_cache, prefill_ms      POST /prefix_cache/clear

Generation: each token is TOKEN_MS of work. Up to LANES requests generate at full speed at once;
with more in flight every one slows down in proportion (a GPU time-sliced between sequences, the
model ``labsupport.sim.lb`` simulates). A request whose X-Prefix (a system prompt id) is not in this
replica's LRU of PREFIX_CACHE prefixes first pays PREFILL_MS of work ("computing the KV cache").

Env (a comma list gives replica i the i-th value, e.g. LANES="4,2,2"): LANES (default 2),
TOKEN_MS (default 1), PREFIX_CACHE (default 8), PREFILL_MS (default 20), ROLE (default "any").
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections import OrderedDict

from fastapi import HTTPException, Request
from pydantic import BaseModel

from ._common import REPLICA, REPLICA_ID, lab_app


def _per_replica(name: str, default: str) -> str:
    values = os.environ.get(name, default).split(",")
    return values[REPLICA_ID % len(values)].strip()


LANES = int(_per_replica("LANES", "2"))
TOKEN_MS = float(_per_replica("TOKEN_MS", "1"))
PREFIX_CACHE = int(_per_replica("PREFIX_CACHE", "8"))
PREFILL_MS = float(_per_replica("PREFILL_MS", "20"))
ROLE = _per_replica("ROLE", "any")
STEP_MS = 5.0  # how often a generating request re-reads how busy the replica is

app = lab_app("llm-sim")
counters = app.state.counters
counters.update(prefix_hits=0, prefix_misses=0, generating=0)
_prefixes: OrderedDict[str, None] = OrderedDict()


class GenerateRequest(BaseModel):
    tokens: int = 50
    prefix: str = ""


class EmbedRequest(BaseModel):
    text: str = ""


def _prefix_lookup(prefix: str) -> bool | None:
    """True on a hit; on a miss, store the prefix (evicting the least recently used)."""
    if not prefix:
        return None
    if prefix in _prefixes:
        _prefixes.move_to_end(prefix)
        counters["prefix_hits"] += 1
        return True
    _prefixes[prefix] = None
    if len(_prefixes) > PREFIX_CACHE:
        _prefixes.popitem(last=False)
    counters["prefix_misses"] += 1
    return False


async def _generate(req: GenerateRequest, request: Request) -> dict:
    t0 = time.perf_counter()
    hit = _prefix_lookup(request.headers.get("x-prefix") or req.prefix)
    remaining_ms = req.tokens * TOKEN_MS + (PREFILL_MS if hit is False else 0.0)
    counters["generating"] += 1
    try:
        last = t0
        while remaining_ms > 0:
            slowdown = max(1.0, counters["generating"] / LANES)
            await asyncio.sleep(min(remaining_ms * slowdown, STEP_MS) / 1000)
            now = time.perf_counter()
            remaining_ms -= (now - last) * 1000 / slowdown  # credit the time that really passed
            last = now
    finally:
        counters["generating"] -= 1
    return {"tokens": req.tokens, "replica": REPLICA, "prefix_hit": hit,
            "ms": round((time.perf_counter() - t0) * 1000, 2)}


@app.post("/generate")
async def generate(req: GenerateRequest, request: Request):
    return await _generate(req, request)


@app.post("/api/chat")
async def chat(req: GenerateRequest, request: Request):
    if ROLE not in ("any", "chat"):
        raise HTTPException(404, f"{REPLICA} is an {ROLE} server: it has no chat model")
    return await _generate(req, request)


@app.post("/api/embed")
def embed(req: EmbedRequest):
    if ROLE not in ("any", "embed"):
        raise HTTPException(404, f"{REPLICA} is a {ROLE} server: it has no embedding model")
    digest = hashlib.sha256(req.text.encode()).digest()
    return {"embedding": [b / 255 for b in digest[:8]], "replica": REPLICA}


@app.get("/info")
def info():
    return {"replica": REPLICA, "role": ROLE, "lanes": LANES, "token_ms": TOKEN_MS,
            "prefix_cache": PREFIX_CACHE, "prefill_ms": PREFILL_MS}


@app.post("/prefix_cache/clear")
def clear_prefixes():
    _prefixes.clear()
    return {"ok": True}
