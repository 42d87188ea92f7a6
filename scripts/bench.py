"""Benchmark: prints numbers, asserts nothing (speed targets live here, not in tests).

    python scripts/bench.py            # services + cold book build + per-lab execution time
    python scripts/bench.py --services # only time-to-ready of each service and cluster

Budgets from the course design: Redis ready ≤ 0.2 s, PostgreSQL (with initdb) ≤ 2 s, nginx ≤ 0.2 s,
each 3-node cluster ≤ 3 s (formed and usable, its network's relay included), each lab ≤ 60 s, the full
cold book build ≤ 6 min, on 2 cores.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]


def time_to_ready(n: int = 5) -> dict[str, float]:
    from labsupport import services

    app = services.app("labsupport.apps.model_server:app")
    starters = {
        "redis": services.redis,
        "postgres (template copy)": services.postgres,
        "nginx": lambda: services.nginx(upstream=[app]),
        "fastapi app (uvicorn)": lambda: services.app("labsupport.apps.model_server:app"),
        "fault proxy": lambda: services.fault_proxy(app),
    }
    medians = {}
    for name, start in starters.items():
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            svc = start()
            times.append(time.perf_counter() - t0)
            svc.cleanup()
        medians[name] = statistics.median(times)
    services.stop_all()
    return medians


def time_to_cluster(n: int = 3) -> dict[str, float]:
    """Median ``ready_s`` (first spawn -> formed and usable, relay included) of each kind of cluster."""
    from labsupport import clusters, services
    from labsupport.services.tansu import kafka

    starters = {
        "postgres primary + 2 standbys": lambda: clusters.pg_cluster(standbys=2),
        "valkey primary + 2 replicas": lambda: clusters.valkey_replicas(replicas=2),
        "valkey cluster 3 masters + 3 replicas": lambda: clusters.valkey_cluster(masters=3, replicas_per_master=1),
        "etcd, 3 members": lambda: clusters.etcd_cluster(nodes=3),
        "nats jetstream, 3 nodes": lambda: clusters.nats_cluster(nodes=3),
        "kafka protocol broker (tansu)": kafka,
    }
    medians = {}
    for name, start in starters.items():
        times = []
        for _ in range(n):
            c = start()
            times.append(c.ready_s)
            c.cleanup()
        medians[name] = statistics.median(times)
    services.stop_all()
    return medians


def cold_build() -> tuple[float, dict[str, float], int]:
    out = Path(tempfile.mkdtemp(prefix="bench-book-"))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_book.py"), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    took = time.perf_counter() - t0
    log = proc.stdout + proc.stderr
    labs = {Path(m.group(1)).relative_to(ROOT).as_posix(): float(m.group(2))
            for m in re.finditer(r"^(\S+\.ipynb): Executed notebook in ([\d.]+) seconds", log, re.M)}
    return took, labs, proc.returncode


def main() -> None:
    from build_book import quiet_runtime_dir

    quiet_runtime_dir()
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", action="store_true", help="only time the services")
    args = ap.parse_args()
    print("Time to ready, median of 5 (budget: redis 0.2 s, postgres 2 s, nginx 0.2 s)")
    for name, s in time_to_ready().items():
        print(f"  {name:26} {s * 1000:8.0f} ms")
    print("\nCluster ready time, median of 3 (budget: 3 s for a 3-node cluster)")
    for name, s in time_to_cluster().items():
        print(f"  {name:38} {s:6.2f} s{'  OVER BUDGET' if s > 3 else ''}")
    if args.services:
        return
    print("\nCold book build (fresh output folder, every lab executed) ...", flush=True)
    took, labs, code = cold_build()
    print(f"  full build: {took:.0f} s ({took / 60:.1f} min; budget 6 min), exit code {code}")
    print("\nLab execution time (budget 60 s each)")
    for nb, s in sorted(labs.items()):
        flag = "  OVER BUDGET" if s > 60 else ""
        print(f"  {nb:58} {s:6.1f} s{flag}")
    if labs:
        print(f"  {'total':58} {sum(labs.values()):6.1f} s")


if __name__ == "__main__":
    main()
