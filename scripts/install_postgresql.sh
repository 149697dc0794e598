#!/usr/bin/env bash
# Install Debian's PostgreSQL server binaries for the history store's PostgreSQL tests (tests/test_store.py
# starts a throw-away server from /usr/lib/postgresql/*/bin; the tests skip, saying why, without it).
# Needs apt-get and root (or sudo). Idempotent: does nothing when initdb and pg_ctl are already installed.
# The Debian package also creates the unprivileged `postgres` user the tests run the server as.
set -euo pipefail

if compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null && id postgres >/dev/null 2>&1; then
    echo "postgresql already installed: $(ls -d /usr/lib/postgresql/*/bin | tail -1)"
    exit 0
fi
source "$(dirname "$0")/apt_install.sh"
# The tests start their own server in a temporary folder; the cluster the package creates is not used.
apt_install "the PostgreSQL server" postgresql
ls -d /usr/lib/postgresql/*/bin
