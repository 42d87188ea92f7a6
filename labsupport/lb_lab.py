"""Chapter 5 helpers that read what a real server spent, for the L4 vs L7 lab.

    before = cpu_ms(l7)                 # CPU time (ms) nginx's master and workers have used so far
    ...send N requests through l7...
    per_request_us = (cpu_ms(l7) - before) * 1000 / N

Linux reads ``/proc/<pid>/schedstat`` (nanoseconds on CPU); elsewhere psutil's user + system times
(clock ticks, so send thousands of requests). The why is in the book, chapter 5, "L4 and L7".
"""

from __future__ import annotations

from pathlib import Path

import psutil


def _proc_cpu_ms(proc: psutil.Process) -> float:
    stat = Path(f"/proc/{proc.pid}/schedstat")
    try:
        return int(stat.read_text().split()[0]) / 1e6
    except (OSError, ValueError, IndexError):
        t = proc.cpu_times()
        return (t.user + t.system) * 1000


def cpu_ms(server) -> float:
    """CPU milliseconds used so far by a started server's process and all its children (nginx workers)."""
    main = psutil.Process(server.proc.pid)
    total = 0.0
    for proc in [main, *main.children(recursive=True)]:
        try:
            total += _proc_cpu_ms(proc)
        except psutil.NoSuchProcess:
            continue
    return total
