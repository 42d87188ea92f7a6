"""A stand-in LLM that answers token by token, served three ways (lab 02-protocols/03-websockets).

    POST /generate {"prompt": "...", "tokens": 40}  -> waits for the whole answer, then one JSON body
    GET  /stream?tokens=40                          -> Server-Sent Events: one `data:` line per token
    WS   /ws  send {"prompt": "...", "tokens": 40}  -> {"i": 0, "token": "..."} ... then {"done": true, ...}
              mid-stream, send {"cmd": "faster"}, {"cmd": "slower"} or {"cmd": "stop"}: the server
              answers {"ack": cmd, "token_ms": ...} and changes pace (or stops) from the next token
Each token takes TOKEN_MS (env, default 30 ms): a GPU decoding one token at a time.
Chapter: book/02-protocols.md.
"""

from __future__ import annotations

import asyncio
import json
import os

from fastapi import WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from ._common import REPLICA, lab_app

TOKEN_MS = float(os.environ.get("TOKEN_MS", "30"))
ANSWER = (
    "A model in production is more than weights: it is an API server, a feature store, a cache, "
    "a queue and a dashboard, all talking over a network. Each hop is a protocol choice. HTTP is "
    "the common default; streaming tokens back to a user calls for a connection that stays open; "
    "services that talk to each other millions of times a day often prefer compact binary messages. "
    "Measure before you choose, and choose the simplest protocol that meets the need."
).split()


def fake_tokens(n: int) -> list[str]:
    """The first n tokens of the canned answer (it repeats if n is larger)."""
    return [ANSWER[i % len(ANSWER)] for i in range(n)]


class GenerateRequest(BaseModel):
    prompt: str = ""
    tokens: int = 40


app = lab_app("token-stream")


@app.post("/generate")
async def generate(req: GenerateRequest):
    """The whole answer at once: the client sees nothing until the last token is done."""
    out = []
    for tok in fake_tokens(req.tokens):
        await asyncio.sleep(TOKEN_MS / 1000)
        out.append(tok)
    return {"tokens": out, "replica": REPLICA}


@app.get("/stream")
async def stream(tokens: int = 40):
    """Server-Sent Events over plain HTTP: the response starts at once and grows token by token."""

    async def events():
        for i, tok in enumerate(fake_tokens(tokens)):
            await asyncio.sleep(TOKEN_MS / 1000)
            yield f"data: {json.dumps({'i': i, 'token': tok})}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


@app.websocket("/ws")
async def ws_generate(ws: WebSocket):
    """Tokens flow down while commands flow up, on the same connection."""
    await ws.accept()
    try:
        req = GenerateRequest(**json.loads(await ws.receive_text()))
    except WebSocketDisconnect:
        return
    state = {"token_ms": TOKEN_MS, "stop": False}

    async def listen():
        while True:
            cmd = json.loads(await ws.receive_text()).get("cmd")
            if cmd == "faster":
                state["token_ms"] /= 2
            elif cmd == "slower":
                state["token_ms"] *= 2
            elif cmd == "stop":
                state["stop"] = True
            await ws.send_text(json.dumps({"ack": cmd, "token_ms": state["token_ms"]}))

    listener = asyncio.create_task(listen())
    sent = 0
    try:
        for i, tok in enumerate(fake_tokens(req.tokens)):
            await asyncio.sleep(state["token_ms"] / 1000)
            if state["stop"] or listener.done():
                break
            await ws.send_text(json.dumps({"i": i, "token": tok}))
            sent += 1
        if not listener.done():
            reason = "stop" if state["stop"] else "length"
            await ws.send_text(json.dumps({"done": True, "tokens": sent, "reason": reason}))
            await ws.close()
    except WebSocketDisconnect:
        pass
    finally:
        listener.cancel()
