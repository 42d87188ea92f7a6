#!/usr/bin/env bash
# Runs a representative part of the suite as an unprivileged learner, the way one really works:
# a fresh clone in their own home, their own .venv, servers found without root's PATH (Debian keeps
# nginx in /usr/sbin), PostgreSQL running as themselves. Called by .ci/run after `make test`, as root.
#   scripts/as_learner.sh            # user "learner" (created if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "as_learner.sh: run as root (it creates the user and hands it a clone)"; exit 1; }
user=${LEARNER_USER:-learner}
id -u "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
home=$(getent passwd "$user" | cut -d: -f6)
dest="$home/course-ci"
rm -rf "$dest"
git clone -q "$PWD" "$dest"
chown -R "$user:" "$dest"
# Unit and service tests (no book build, no browser), plus labs that start each kind of server alone:
# PostgreSQL + Redis (6.1), nginx + apps (5.1), a fault proxy (2.1).
tests="tests/test_*.py tests/labs/test_06_01_cache_aside.py tests/labs/test_05_01_policies_live.py tests/labs/test_02_01_http.py"
su - "$user" -c "cd '$dest' && scripts/setup.sh && .venv/bin/python -m pytest -q -m 'not book and not browser' \
  -p no:cacheprovider $tests"
