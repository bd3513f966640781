#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (tests/browser/), when it is not there yet.
# The tests drive it through the playwright Python package with executable_path=/usr/bin/chromium;
# no browser is ever downloaded by playwright. Needs root (or sudo) on a Debian/Ubuntu machine.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    echo "chromium is installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi
if ! command -v apt-get >/dev/null; then
    echo "install-chromium: no apt-get here; install Chromium at /usr/bin/chromium by hand" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y chromium
