"""A stand-in chatbot model (the "LLM"); the cache-aside client in front of it is ``drivers.chat``.

    llm = services.app("labsupport.apps.chatbot:app")                  # the model, a real process
    POST /chat {"prompt": "..."}  -> {"answer": ..., "tokens": 70, "gpu_ms": 9.0}
    GET  /stats                   -> {"requests": .., "gpu_calls": .., "gpu_ms": ..}

Every call costs GPU time: a prefill per prompt word plus a decode per answer token. The stand-in
writes TOKENS_PER_WORD answer tokens per prompt word (a short factual question gets a short answer,
a long request a long one), waiting TOKEN_MS per token as if a GPU elsewhere were busy. The times
are scaled down about 100x from a real LLM so a lab runs in seconds; the ratios are what matter.
"""

from __future__ import annotations

import asyncio
import hashlib
import os

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
