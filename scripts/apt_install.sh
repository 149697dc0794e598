#!/usr/bin/env bash
# Shared by the install_*.sh scripts: `apt_install WHAT PACKAGE...` installs Debian packages with apt-get, as
# root or through sudo, and explains in one line why it cannot (no apt-get, not root and no sudo); the tests
# that need WHAT then skip and say so.
apt_install() {
    local what=$1
    shift
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "no apt-get here: install $what with this system's package manager; its tests skip until then" >&2
        return 1
    fi
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "not root and no sudo: run as root to install $what" >&2
            return 1
        fi
        sudo="sudo"
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}
