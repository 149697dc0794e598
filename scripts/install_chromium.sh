#!/usr/bin/env bash
# Install Debian's chromium for the report's browser tests (tests/test_html_report.py); they skip without it.
# Needs apt-get and root (or sudo). Idempotent: does nothing when chromium is already on PATH.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    echo "chromium already installed: $(command -v chromium || command -v chromium-browser)"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "no apt-get here: install Chromium with this system's package manager; the browser tests skip until then" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "not root and no sudo: run as root to install chromium" >&2
        exit 1
    fi
    SUDO="sudo"
fi
# DejaVu gives the headless browser a real font, so screenshots show text rather than empty boxes.
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
chromium --version
