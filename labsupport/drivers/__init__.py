"""Client-side drivers: what a lab runs *against* the servers. Apps and services hold only the servers.

    from labsupport.drivers import sessions, chat, receipts, cache_replay, dns, raw_http, streams
    sessions.login_users(lb.url, n=25); sessions.browse(users, rounds=6)   # browsers with cookie jars
    chat.CachedChat(r.client(), llm.url).ask("...");  chat.serve_workload(chat, prompts)   # cache-aside
    receipts.Receipts(KEYS)                       # the client's own tally of a gateway's answers
    cache_replay.replay(r.client(), reqs, value)  # a workload replayed on a real Redis, hit by hit
    dns.CachingResolver(d); dns.ClientFleet(d, "api", clients=30).run(duration_s=6)   # DNS clients
    raw_http.RawHTTP(api); raw_http.time_connections(api, n=50)   # bytes on a socket, phase timings
    streams.stream_sse(gen, tokens=40)            # token streams, timed on the client's clock

One module per kind of client; each loads on first use (``drivers.dns`` needs dnspython, ...).
The workloads they send come from ``labsupport.workload``.
"""

_MODULES = ("cache_replay", "chat", "dns", "raw_http", "receipts", "sessions", "streams")


def __getattr__(name: str):
    if name in _MODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
