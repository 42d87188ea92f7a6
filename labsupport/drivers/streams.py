"""Token-stream clients of ``apps.token_stream``: the whole answer, Server-Sent Events, a WebSocket.

    tl = stream_http(gen, tokens=40)                    # one response after the last token
    tl = stream_sse(gen, tokens=40)                     # one ``data:`` line per token
    tl = stream_ws(gen, tokens=40, commands={10: "faster"}, live=True)   # both directions at once
    tl.ttft_ms, tl.total_ms, tl.arrivals_ms, tl.gaps_ms, tl.sent, tl.acks, tl.reason   # client's clock

A server here is anything with ``.url`` (every labsupport service).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field


@dataclass
class Timeline:
    """Tokens as the client saw them: ``arrivals_ms[i]`` is when token i arrived, from the request."""

    tokens: list[str] = field(default_factory=list)
    arrivals_ms: list[float] = field(default_factory=list)
    total_ms: float = float("nan")
    sent: list[tuple[float, str]] = field(default_factory=list)  # (ms, command) sent mid-stream
    acks: list[tuple[float, dict]] = field(default_factory=list)  # (ms, server's reply to a command)
    reason: str = ""

    @property
    def ttft_ms(self) -> float:
        """Time to first token."""
        return self.arrivals_ms[0] if self.arrivals_ms else float("nan")

    @property
    def gaps_ms(self) -> list[float]:
        return [b - a for a, b in zip(self.arrivals_ms, self.arrivals_ms[1:])]


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def stream_http(server, tokens: int = 40, client=None) -> Timeline:
    """POST /generate: one response after the last token, so every token 'arrives' at the end."""
    import httpx  # noqa: PLC0415

    own = client is None
    client = client or httpx.Client(base_url=server.url, timeout=60)
    try:
        t0 = time.perf_counter()
        body = client.post("/generate", json={"tokens": tokens}).raise_for_status().json()
        done = _ms(t0)
    finally:
        if own:
            client.close()
    return Timeline(tokens=body["tokens"], arrivals_ms=[done] * len(body["tokens"]), total_ms=done,
                    reason="length")


def stream_sse(server, tokens: int = 40, client=None) -> Timeline:
    """GET /stream: Server-Sent Events, one ``data:`` line per token over an ordinary HTTP response."""
    import httpx  # noqa: PLC0415

    own = client is None
    client = client or httpx.Client(base_url=server.url, timeout=60)
    tl = Timeline(reason="length")
    try:
        t0 = time.perf_counter()
        with client.stream("GET", "/stream", params={"tokens": tokens}) as resp:
            for line in resp.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                tl.arrivals_ms.append(_ms(t0))
                tl.tokens.append(json.loads(line[6:])["token"])
        tl.total_ms = _ms(t0)
    finally:
        if own:
            client.close()
    return tl


def stream_ws(server, tokens: int = 40, commands: dict[int, str] | None = None, live: bool = False) -> Timeline:
    """WS /ws: tokens arrive as messages; after token i, send ``commands[i]`` ("faster", "stop"...).

    ``live=True`` shows the answer growing in the notebook while it streams.
    """
    from websockets.sync.client import connect  # noqa: PLC0415

    commands = dict(commands or {})
    tl = Timeline()
    view = _LiveText() if live else None
    url = server.url.replace("http", "ws", 1) + "/ws"
    t0 = time.perf_counter()
    with connect(url, open_timeout=10) as ws:
        ws.send(json.dumps({"tokens": tokens}))
        for raw in ws:
            msg = json.loads(raw)
            if "ack" in msg:
                tl.acks.append((_ms(t0), msg))
            elif msg.get("done"):
                tl.reason = msg["reason"]
                break
            else:
                tl.arrivals_ms.append(_ms(t0))
                tl.tokens.append(msg["token"])
                if view:
                    view.update(tl)
                cmd = commands.pop(msg["i"], None)
                if cmd:
                    ws.send(json.dumps({"cmd": cmd}))
                    tl.sent.append((_ms(t0), cmd))
    tl.total_ms = _ms(t0)
    if view:
        view.update(tl, final=True)
    return tl


class _LiveText:
    """A notebook output line that is redrawn as tokens arrive."""

    def __init__(self):
        from IPython.display import display  # noqa: PLC0415

        self.handle = display("", display_id=True)

    def update(self, tl: Timeline, final: bool = False) -> None:
        from IPython.display import Markdown  # noqa: PLC0415

        sent = ", ".join(f"{c!r} at {ms:.0f} ms" for ms, c in tl.sent) or "nothing yet"
        status = f"done ({tl.reason})" if final else "streaming"
        self.handle.update(Markdown(f"**{len(tl.tokens)} tokens, {status}; client sent: {sent}**\n\n"
                                    f"> {' '.join(tl.tokens)}"))
