"""Reaper process: kills the process groups it was told about once its parent is gone.

Protocol on stdin, one line each: ``+PGID`` (track) or ``-PGID`` (forget). EOF means the
parent died (or exited); every remaining group gets SIGTERM, then SIGKILL.
"""

import os
import signal
import sys
import time


def _kill(groups: set[int], sig: int) -> None:
    for pgid in groups:
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _alive(groups: set[int]) -> set[int]:
    alive = set()
    for pgid in groups:
        try:
            os.killpg(pgid, 0)
            alive.add(pgid)
        except (ProcessLookupError, PermissionError):
            pass
    return alive


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    groups: set[int] = set()
    for line in sys.stdin.buffer:
        line = line.strip()
        if line[:1] == b"+":
            groups.add(int(line[1:]))
        elif line[:1] == b"-":
            groups.discard(int(line[1:]))
    groups = _alive(groups)
    if not groups:
        return
    _kill(groups, signal.SIGCONT)  # a paused server cannot act on SIGTERM
    _kill(groups, signal.SIGTERM)
    deadline = time.monotonic() + 2.0
    while groups and time.monotonic() < deadline:
        time.sleep(0.05)
        groups = _alive(groups)
    _kill(groups, signal.SIGKILL)


if __name__ == "__main__":
    main()
