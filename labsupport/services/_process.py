"""The managed-process base class every real server in the course shares.

    svc.url  svc.host  svc.port        where clients connect (always 127.0.0.1)
    svc.stop()                         SIGTERM, then SIGKILL after a grace period
    svc.kill()                         SIGKILL: a crash, nothing flushed
    svc.pause() / svc.resume()         SIGSTOP / SIGCONT: a hang, the port stays open
    with svc.paused(): ...             the same hang, scoped: resumed when the block ends
    svc.restart()                      stop (if running) and start again on the same port and data
    svc.logs(lines=40)                 the tail of the server's own log
    with svc: ...                      stops it at the end of the block

Subclasses say how to build the command line and how to probe readiness. The why
of each signal is in the book's intro chapter ("How the labs run real servers").
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import _registry
from ._probes import tcp_ok

HOST = "127.0.0.1"
_PR_SET_PDEATHSIG = 1


class ServiceError(RuntimeError):
    """A server failed to start or was used wrongly. The message names the fix."""


def _ephemeral_range() -> tuple[int, int]:
    try:
        lo, hi = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return 32768, 60999


def free_port(taken: frozenset[int] | set[int] = frozenset()) -> int:
    """A TCP port on 127.0.0.1 that nothing is listening on right now, below the kernel's ephemeral range.

    A port is picked now and bound a moment later (config files and command lines name it). Meanwhile
    the kernel hands out ephemeral ports to every bind(0) (relay listeners) and to every outgoing
    connection's source port; picking outside that range means none of them can take it first."""
    lo, hi = _ephemeral_range()
    pick = (lambda: random.randint(10000, lo - 1)) if lo > 12000 else (lambda: random.randint(hi + 1, 65535))
    for _ in range(200):
        port = pick()
        if port not in taken and not port_in_use(port):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:  # a crowded range: any free port will do
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_in_use(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def tcp_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """The TCP readiness probe (``_probes.tcp_ok``) under the name ``clusters/`` imports."""
    return tcp_ok(host, port, timeout)


def run_root() -> Path:
    """Per-user folder that holds every server's data dir and log."""
    root = Path(os.environ.get("LABSUPPORT_RUNDIR") or Path(tempfile.gettempdir()) / f"labsupport-{os.getuid()}")
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # an unprivileged postgres must be able to reach its data dir
    return root


def _child_setup(uid: int | None, gid: int | None, pdeathsig: bool):
    """Runs in the child between fork and exec."""
    os.setsid()  # own process group: stop/kill/pause reach every worker of the server
    if gid is not None:
        os.setgroups([])
        os.setgid(gid)
    if uid is not None:
        os.setuid(uid)
    if pdeathsig:  # after setuid, which clears it
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class ManagedProcess:
    """A real server process on 127.0.0.1 with a readiness probe and a log file."""

    kind = "server"
    start_timeout_s = 15.0
    stop_grace_s = 5.0

    def __init__(self, name: str | None = None, port: int | None = None):
        self.name = name or self.kind
        self.host = HOST
        self._requested_port = port
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{self.name}-", dir=run_root()))
        self.workdir.chmod(0o755)
        self.log_path = self.workdir / "server.log"
        self.started_s: float | None = None
        self.ready_s: float | None = None  # seconds from spawn to ready, measured
        self._paused = False

    # -- what subclasses provide -------------------------------------------------------------
    def command(self) -> list[str]:
        raise NotImplementedError

    def probe(self) -> bool:
        """True once the server answers its protocol. Must be quick (short timeouts)."""
        return tcp_ok(self.host, self.port)

    def prepare(self) -> None:
        """Write config files, init data dirs. Called before every (re)start."""

    def install_hint(self) -> str:
        return ""

    def run_as(self) -> tuple[int | None, int | None]:
        return None, None

    def env(self) -> dict[str, str]:
        return {}

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "ManagedProcess":
        if self.running:
            return self
        if self.port is None:
            if self._requested_port is not None:
                if port_in_use(self._requested_port, self.host):
                    raise ServiceError(
                        f"{self.name}: port {self._requested_port} on {self.host} is already in use.\n"
                        f"Fix: leave port=None to pick a free port, or stop what holds it "
                        f"(`ss -ltnp | grep :{self._requested_port}`)."
                    )
                self.port = self._requested_port
            else:
                self.port = free_port()
        self.prepare()
        self._spawn()
        self._wait_ready()
        return self

    def _spawn(self) -> None:
        cmd = self.command()
        uid, gid = self.run_as()
        pdeathsig = threading.current_thread() is threading.main_thread()
        env = {**os.environ, **self.env()}
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env=env,
                preexec_fn=lambda: _child_setup(uid, gid, pdeathsig),
            )
        except FileNotFoundError as exc:
            raise ServiceError(f"{self.name}: cannot run {cmd[0]!r}: {exc}.\nFix: {self.install_hint()}") from None
        finally:
            log.close()
        self.started_s = time.perf_counter()
        _registry.track(self)

    def _wait_ready(self) -> None:
        deadline = self.started_s + self.start_timeout_s
        delay = 0.002
        while True:
            code = self.proc.poll()
            if code is not None:
                self._fail(f"exited with code {code} before it was ready")
            try:
                if self.probe():
                    self.ready_s = time.perf_counter() - self.started_s
                    return
            except Exception:  # noqa: BLE001 - any probe error means "not ready yet"
                pass
            if time.perf_counter() > deadline:
                self._fail(f"was not ready after {self.start_timeout_s:.0f} s")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.05)

    def _fail(self, what: str) -> None:
        tail = self.logs(25)
        self._terminate(signal.SIGKILL)
        hint = self.install_hint()
        raise ServiceError(
            f"{self.name} on {self.address} {what}.\n"
            f"--- last lines of {self.log_path} ---\n{tail or '(log is empty)'}\n---"
            + (f"\nIf the binary is missing or broken: {hint}" if hint else "")
        )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def _signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _terminate(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        if self._paused:
            self._signal_group(signal.SIGCONT)
            self._paused = False
        self._signal_group(sig)
        try:
            self.proc.wait(timeout=self.stop_grace_s)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.proc.wait(timeout=5)
        self._signal_group(signal.SIGKILL)  # stragglers in the group (workers, backends)
        _registry.untrack(self)

    def stop(self) -> None:
        """Graceful shutdown: the server gets SIGTERM and time to flush."""
        self._terminate(signal.SIGTERM)

    def kill(self) -> None:
        """A crash: SIGKILL to the whole process group, nothing is flushed."""
        self._terminate(signal.SIGKILL)

    def pause(self) -> None:
        """A hang: the process is frozen (SIGSTOP); connections are accepted by the kernel but never answered."""
        self._signal_group(signal.SIGSTOP)
        self._paused = True

    def resume(self) -> None:
        self._signal_group(signal.SIGCONT)
        self._paused = False

    @contextlib.contextmanager
    def paused(self):
        """``with svc.paused():`` hangs the server for the block, then resumes it (even on error)."""
        self.pause()
        try:
            yield self
        finally:
            self.resume()

    def restart(self) -> "ManagedProcess":
        if self.running:
            self.stop()
        self.proc = None
        return self.start()

    def logs(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def cleanup(self) -> None:
        """Stop and remove the data dir (the registry calls this at exit)."""
        if self.running:
            self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    def __repr__(self) -> str:
        state = "paused" if self._paused else ("running" if self.running else "stopped")
        return f"<{type(self).__name__} {self.name} {self.url if self.port else ''} {state}>"


def python_exe() -> str:
    return sys.executable
