"""Real servers for the labs, each on a free 127.0.0.1 port, each reaped when the lab ends.

    from labsupport import services
    r  = services.redis(maxmemory="2mb", maxmemory_policy="allkeys-lru")
    pg = services.postgres();          conn = pg.connect()
    apps = services.app("labsupport.apps.model_server:app", replicas=3)
    lb = services.nginx(upstream=apps, policy="least_conn");  lb.show_config()
    link = services.fault_proxy(r);    with link.latency(ms=80): ...
    services.stop_all()                # the teardown cell; also runs at exit

Every service has .url, .stop(), .kill(), .pause(), .resume(), .restart(), .logs().
``python -m labsupport doctor`` says where each server binary comes from.
"""

from ._process import ManagedProcess, ServiceError, free_port
from ._registry import running, stop_all
from .app import AppGroup, AppServer, app
from .faults import FaultProxy, fault_proxy
from .nginx import nginx
from .nginx_config import NginxConfig, RateLimit, Route, Upstream
from .postgres import postgres
from .redis import redis

__all__ = [
    "ManagedProcess", "ServiceError", "free_port", "running", "stop_all",
    "redis", "postgres", "nginx", "NginxConfig", "Upstream", "Route", "RateLimit",
    "app", "AppServer", "AppGroup", "fault_proxy", "FaultProxy",
]

# Servers added by later chapters load on first use, so `services.dns(...)` works without
# importing every protocol library up front.
_LAZY = {"dns": "dns_server", "grpc_server": "grpc_service", "kafka": "tansu"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
