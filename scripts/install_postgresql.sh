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
if ! command -v apt-get >/dev/null 2>&1; then
    echo "no apt-get here: install the PostgreSQL server with this system's package manager; those tests skip until then" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "not root and no sudo: run as root to install postgresql" >&2
        exit 1
    fi
    SUDO="sudo"
fi
$SUDO apt-get update -qq
# The tests start their own server in a temporary folder; the cluster the package creates is not used.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql
ls -d /usr/lib/postgresql/*/bin
