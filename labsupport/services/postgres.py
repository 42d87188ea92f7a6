"""A real PostgreSQL server with pgvector available, initdb'ed fresh for the lab.

    pg = services.postgres()
    conn = pg.connect()                 # psycopg 3 connection, autocommit on
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    pg.url                              # postgresql://postgres:PASSWORD@127.0.0.1:PORT/postgres
    pg.kill(); pg.restart()             # crash and recover: committed rows survive

PostgreSQL refuses to run as root, so under root it runs as the unprivileged user ``nobody``.
With $LABSUPPORT_POSTGRES_URL set, the existing server at that URL is used instead.
"""

from __future__ import annotations

import os
import pwd
import secrets
import signal
import subprocess
from pathlib import Path

import psycopg

from . import _resolve
from ._external import ExternalService
from ._process import ManagedProcess, ServiceError, _child_setup


class PostgresServer(ManagedProcess):
    kind = "postgres"
    start_timeout_s = 30.0

    def __init__(self, name: str | None = None, port: int | None = None, bindir: str = "", **settings):
        super().__init__(name, port)
        self.bindir = Path(bindir)
        self.password = secrets.token_urlsafe(12)
        self.settings = {"listen_addresses": self.host, "unix_socket_directories": "",
                         "shared_buffers": "64MB", "max_connections": "60", **settings}
        self.data = self.workdir / "data"

    def run_as(self):
        if os.geteuid() != 0:
            return None, None
        nobody = pwd.getpwnam("nobody")
        return nobody.pw_uid, nobody.pw_gid

    def prepare(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        uid, gid = self.run_as()
        pwfile = self.workdir / "pwfile"
        pwfile.write_text(self.password + "\n")
        if uid is not None:
            os.chown(self.workdir, uid, gid)
            os.chown(pwfile, uid, gid)
            os.chown(self.log_path.parent, uid, gid)
        cmd = [str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", f"--pwfile={pwfile}",
               "-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=self.workdir,
                             preexec_fn=lambda: _child_setup(uid, gid, False))
        pwfile.unlink(missing_ok=True)
        if out.returncode != 0:
            raise ServiceError(f"postgres: initdb failed (exit {out.returncode}).\n--- initdb output ---\n"
                               f"{(out.stdout + out.stderr)[-2000:]}\n---\nFix: {self.install_hint()}")

    def command(self) -> list[str]:
        args = [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port)]
        for key, value in self.settings.items():
            args += ["-c", f"{key}={value}"]
        return args

    def probe(self) -> bool:
        with psycopg.connect(self.url, connect_timeout=1) as conn:
            return conn.execute("SELECT 1").fetchone()[0] == 1

    def stop(self) -> None:
        """Graceful and quick: SIGINT is PostgreSQL's "fast" shutdown (disconnect clients, checkpoint).
        SIGTERM ("smart") waits for every open connection to close, so a lab holding one would stall."""
        self._terminate(signal.SIGINT)

    def install_hint(self) -> str:
        return _resolve.install_hint("postgres")

    @property
    def url(self) -> str:
        return f"postgresql://postgres:{self.password}@{self.host}:{self.port}/postgres"

    def connect(self, autocommit: bool = True, **kw) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=autocommit, **kw)


class ExternalPostgres(ExternalService):
    kind = "postgres"

    def connect(self, autocommit: bool = True, **kw) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=autocommit, **kw)

    def probe(self) -> bool:
        with psycopg.connect(self.url, connect_timeout=2) as conn:
            return conn.execute("SELECT 1").fetchone()[0] == 1


def postgres(name: str | None = None, port: int | None = None, **settings):
    """Start PostgreSQL (see module docstring). Keywords become server settings (``-c key=value``)."""
    src = _resolve.postgres()
    if src.kind == "env":
        return ExternalPostgres(src.where, name=name).check()
    if src.kind == "missing":
        raise ServiceError(f"No PostgreSQL server found. Fix: {src.note}")
    return PostgresServer(name=name, port=port, bindir=src.where, **settings).start()
