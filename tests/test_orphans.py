"""No server outlives a lab, even when its kernel is killed with SIGKILL (no atexit, no cleanup code)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time

import psutil
from jupyter_client import KernelManager

from labsupport.services._process import port_in_use

START_EVERYTHING = """
import json
from labsupport import services
r = services.redis()
pg = services.postgres()
apps = services.app("labsupport.apps.model_server:app", replicas=2)
lb = services.nginx(upstream=apps)
link = services.fault_proxy(r)
r2 = services.redis(); r2.pause()   # a paused server must die too
procs = [r, pg, *apps, lb, link, r2]
pids = []
for s in procs:
    import psutil
    p = psutil.Process(s.pid)
    pids += [p.pid] + [c.pid for c in p.children(recursive=True)]
print(json.dumps({"pids": pids, "ports": [s.port for s in procs]}))
"""


def _run(kc, code: str) -> str:
    out = []

    def keep(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            out.append("\n".join(msg["content"]["traceback"]))

    kc.execute_interactive(code, timeout=120, output_hook=keep)
    return "".join(out)


@contextlib.contextmanager
def _kernel():
    """A real IPython kernel, as a notebook has; yields (manager, client)."""
    km = KernelManager(kernel_name="python3")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _sigkill_then_expect_nothing_left(km, started: dict, wait_s: float) -> None:
    """SIGKILL the kernel (no atexit, no cleanup), then every started pid and port must be gone in time."""
    os.kill(km.provisioner.process.pid, signal.SIGKILL)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        alive = [p for p in started["pids"] if _alive(p)]
        busy = [p for p in started["ports"] if port_in_use(p)]
        if not alive and not busy:
            break
        time.sleep(0.2)
    assert not alive, f"survivors: {[psutil.Process(p).cmdline()[:3] for p in alive if _alive(p)]}"
    assert not busy, f"ports still bound: {busy}"


def test_sigkilled_kernel_leaves_no_server_or_port():
    """A kernel starts redis, postgres, 2 apps, nginx, a fault proxy and a paused redis; SIGKILL it; all die."""
    with _kernel() as (km, kc):
        out = _run(kc, START_EVERYTHING)
        started = json.loads(out.strip().splitlines()[-1])
        assert len(started["pids"]) >= 8 and all(_alive(p) for p in started["pids"])
        _sigkill_then_expect_nothing_left(km, started, wait_s=15)


def test_reaper_alone_cleans_up_servers_started_from_a_thread():
    """Servers started off the main thread get no PDEATHSIG: the reaper process alone must kill them."""
    with _kernel() as (km, kc):
        out = _run(kc, "import json, threading\nfrom labsupport import services\nbox = []\n"
                       "t = threading.Thread(target=lambda: box.append(services.redis())); t.start(); t.join()\n"
                       "print(json.dumps({'pid': box[0].pid, 'port': box[0].port}))")
        started = json.loads(out.strip().splitlines()[-1])
        os.kill(km.provisioner.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(started["pid"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(started["pid"]) and not port_in_use(started["port"])


START_CLUSTERS = """
import json, psutil
from labsupport import clusters
from labsupport.services.tansu import kafka
pg = clusters.pg_cluster(standbys=1)
ed = clusters.etcd_cluster(nodes=3)
js = clusters.nats_cluster(nodes=3)
k = kafka()
ed.node("n2").pause()   # a paused member must die too
procs = [*pg.nodes.values(), pg.net._relay, *ed.nodes.values(), ed.net._relay, *js.nodes.values(), js.net._relay, k]
pids = []
for s in procs:
    p = psutil.Process(s.pid)
    pids += [p.pid] + [c.pid for c in p.children(recursive=True)]
print(json.dumps({"pids": pids, "ports": [s.port for s in procs]}))
"""


def test_sigkilled_kernel_leaves_no_cluster_node_or_relay():
    """A kernel forms a PostgreSQL pair, etcd and NATS (relays included) and a Kafka broker; SIGKILL it; all die."""
    with _kernel() as (km, kc):
        out = _run(kc, START_CLUSTERS)
        started = json.loads(out.strip().splitlines()[-1])
        assert len(started["pids"]) >= 12 and all(_alive(p) for p in started["pids"])
        _sigkill_then_expect_nothing_left(km, started, wait_s=20)
