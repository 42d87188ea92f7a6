"""Every server a lab starts is tracked here, so none outlives the lab.

Two layers:
- at normal interpreter exit, ``atexit`` stops every tracked server (graceful, data dirs removed);
- if the interpreter dies without running atexit (a kernel killed with SIGKILL), a small reaper
  process notices that its stdin pipe closed and kills every process group it was told about.
  The servers also get PR_SET_PDEATHSIG when started from the main thread (see ``_process``).
"""

from __future__ import annotations

import atexit
import subprocess
import sys
import threading

_tracked: list = []
_lock = threading.Lock()
_reaper: subprocess.Popen | None = None


def _reaper_pipe():
    global _reaper
    if _reaper is None or _reaper.poll() is not None:
        _reaper = subprocess.Popen(
            [sys.executable, "-m", "labsupport.services._reaper"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a killpg of the kernel's group must not take the reaper with it
        )
    return _reaper.stdin


def _tell_reaper(line: str) -> None:
    try:
        pipe = _reaper_pipe()
        pipe.write(line.encode() + b"\n")
        pipe.flush()
    except (BrokenPipeError, OSError):
        pass


def track(svc) -> None:
    with _lock:
        if svc not in _tracked:
            _tracked.append(svc)
        _tell_reaper(f"+{svc.proc.pid}")


def untrack(svc) -> None:
    with _lock:
        if svc.proc is not None:
            _tell_reaper(f"-{svc.proc.pid}")


def running() -> list:
    """The servers that are up right now."""
    return [s for s in _tracked if s.running]


def stop_all() -> int:
    """Stop every server this interpreter started; returns how many were running."""
    with _lock:
        services = list(_tracked)
        _tracked.clear()
    n = 0
    for svc in reversed(services):  # proxies before their backends
        if svc.running:
            n += 1
        try:
            svc.cleanup()
        except Exception:  # noqa: BLE001 - keep stopping the rest
            pass
    return n


atexit.register(stop_all)
