#!/usr/bin/env bash
# Install Debian's chromium for the report's browser tests (tests/test_html_report.py); they skip without it.
# Needs apt-get and root (or sudo). Idempotent: does nothing when chromium is already on PATH.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    echo "chromium already installed: $(command -v chromium || command -v chromium-browser)"
    exit 0
fi
source "$(dirname "$0")/apt_install.sh"
# DejaVu gives the headless browser a real font, so screenshots show text rather than empty boxes.
apt_install Chromium chromium fonts-dejavu-core
chromium --version
