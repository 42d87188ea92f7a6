"""A small API gateway in Python: API keys, per-tier limits and usage metering in Redis, path routing.

    env = gateway.env(routes={"/v1/": model_a, "/v2/": model_b}, keys={"key-alice": "free"},
                      tier_limits={"free": ("2r/s", 2)}, redis=r, daily_quota={"free": 100})
    gw = services.app("labsupport.apps.gateway:app", env=env)       # a real uvicorn process
    POST gw.url + "/v1/predict"  (header X-Api-Key)  -> model_a's /predict, or 401 / 429
    GET  gw.url + "/usage"       -> {"key-alice": {"200": 5, "429": 12}, "-": {"401": 2}}   (from Redis)
    receipts = drivers.receipts.Receipts(KEYS)   # the client's own count, to compare (labsupport.drivers)

What the nginx gateway does with ``map`` and ``limit_req`` this one does in Redis (a script that admits
or refuses, then one HINCRBY per request), so every gateway replica shares the same limits and counters. The limit is the same
algorithm as nginx's ``limit_req`` (GCRA, "a leaky bucket"): ``rate`` per key, plus ``burst`` extra at once.
Responses carry X-Upstream (the backend's address) and X-Api-Tier, like the nginx gateway's.
"""

from __future__ import annotations

import json
import os
import re
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

# Admit or refuse in one round trip: the key's daily quota, then the tier's rate (GCRA, as nginx limit_req).
# KEYS: GCRA state, quota counter. ARGV: interval_ms (0 = no limit), burst, quota (0 = none).
_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval, burst, quota = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local status = '200'
if quota > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') >= quota then
  status = '429'
elseif interval > 0 then
  local tat = tonumber(redis.call('GET', KEYS[1]) or now)
  if tat < now then tat = now end
  if tat - now > burst * interval then
    status = '429'
  else
    redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil(tat + interval - now) + 1000)
  end
end
if status == '200' and quota > 0 then
  redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], 86400)
end
return status
"""

_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host", "content-length",
                "proxy-authorization", "proxy-connection", "trailer"}


def _rate(spec: str) -> float:
    """'10r/s' or '600r/m' -> milliseconds between requests."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)r/([sm])", spec.strip())
    if not m:
        raise ValueError(f"rate must look like '10r/s' or '600r/m', got {spec!r}")
    per_ms = 1000 if m.group(2) == "s" else 60_000
    return per_ms / float(m.group(1))


def env(routes: dict, keys: dict, redis, tier_limits: dict | None = None, daily_quota: dict | None = None,
        header: str = "X-Api-Key") -> dict:
    """The environment a gateway process reads: routes prefix -> backend (service or URL), keys -> tier."""
    return {
        "GATEWAY_ROUTES": json.dumps({p: getattr(b, "url", b) for p, b in routes.items()}),
        "GATEWAY_KEYS": json.dumps(keys),
        "GATEWAY_TIER_LIMITS": json.dumps(tier_limits or {}),
        "GATEWAY_DAILY_QUOTA": json.dumps(daily_quota or {}),
        "GATEWAY_REDIS_URL": getattr(redis, "url", redis),
        "GATEWAY_KEY_HEADER": header,
    }


class Config:
    def __init__(self, environ=os.environ):
        self.routes = json.loads(environ.get("GATEWAY_ROUTES", "{}"))
        self.keys = json.loads(environ.get("GATEWAY_KEYS", "{}"))
        limits = json.loads(environ.get("GATEWAY_TIER_LIMITS", "{}"))
        self.limits = {tier: (_rate(s), 0) if isinstance(s, str) else (_rate(s[0]), int(s[1]))
                       for tier, s in limits.items()}
        self.quota = {k: int(v) for k, v in json.loads(environ.get("GATEWAY_DAILY_QUOTA", "{}")).items()}
        self.redis_url = environ.get("GATEWAY_REDIS_URL", "")
        self.header = environ.get("GATEWAY_KEY_HEADER", "X-Api-Key")

    def match(self, path: str):
        """Longest matching prefix: (backend URL, path with the prefix stripped) or None."""
        for prefix in sorted(self.routes, key=len, reverse=True):
            if path.startswith(prefix):
                return self.routes[prefix], "/" + path[len(prefix):].lstrip("/")
        return None


@asynccontextmanager
async def lifespan(app: FastAPI):
    import redis.asyncio as aioredis  # noqa: PLC0415

    cfg = Config()
    app.state.cfg = cfg
    app.state.http = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_keepalive_connections=32))
    app.state.redis = aioredis.Redis.from_url(cfg.redis_url, decode_responses=True) if cfg.redis_url else None
    app.state.admit = app.state.redis.register_script(_ADMIT) if app.state.redis else None
    yield
    await app.state.http.aclose()
    if app.state.redis:
        await app.state.redis.aclose()


app = FastAPI(title="gateway", lifespan=lifespan)


@app.get("/healthz")
async def healthz():
    return {"ok": True, "replica": os.environ.get("REPLICA_NAME", "gateway")}


@app.get("/usage")
async def usage():
    """Requests per key and status, as counted in Redis (an admin endpoint: no key needed in the lab)."""
    r = app.state.redis
    out = {}
    async for name in r.scan_iter("usage:*"):
        out[name.split(":", 1)[1]] = {k: int(v) for k, v in (await r.hgetall(name)).items()}
    return out


@app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
async def forward(path: str, request: Request):
    cfg: Config = app.state.cfg
    key = request.headers.get(cfg.header, "")
    tier = cfg.keys.get(key)
    consumer = key if tier else "-"
    target = cfg.match("/" + path)
    if tier is None:
        status = "401"
        reply = PlainTextResponse("missing or unknown API key\n", status_code=401)
    elif target is None:
        status = "404"
        reply = PlainTextResponse("no route\n", status_code=404)
    else:
        interval, burst = cfg.limits.get(tier, (0, 0))
        keys = [f"gcra:{key}", f"quota:{key}"]
        status = await app.state.admit(keys=keys, args=[interval, burst, cfg.quota.get(tier, 0)])
        if status == "429":
            reply = PlainTextResponse("rate limit or quota exceeded\n", status_code=429)
        else:
            reply = await _proxy(request, target, tier, cfg.header)
            status = str(reply.status_code)
    if app.state.redis is not None:
        await app.state.redis.hincrby(f"usage:{consumer}", status, 1)
    if tier:
        reply.headers["X-Api-Tier"] = tier
    return reply


async def _proxy(request: Request, target, tier: str, key_header: str) -> Response:
    base, rest = target
    url = base.rstrip("/") + rest + (f"?{request.url.query}" if request.url.query else "")
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS | {key_header.lower()}}
    client = request.client.host if request.client else ""
    headers["X-Forwarded-For"] = ", ".join(filter(None, [request.headers.get("x-forwarded-for"), client]))
    headers["X-Forwarded-Proto"] = request.url.scheme
    headers["X-Api-Tier"] = tier
    try:
        up = await app.state.http.request(request.method, url, content=await request.body(), headers=headers)
    except httpx.HTTPError as exc:
        return JSONResponse({"detail": f"upstream error: {type(exc).__name__}"}, status_code=502)
    out = {k: v for k, v in up.headers.items() if k.lower() not in _HOP_HEADERS | {"content-encoding"}}
    out["X-Upstream"] = httpx.URL(base).netloc.decode()
    return Response(content=up.content, status_code=up.status_code, headers=out)
