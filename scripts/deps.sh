#!/usr/bin/env bash
# Installs what extbridge's tests and demo need on Debian: Chromium and
# Firefox ESR from Debian's packages (never a downloaded browser), Debian's
# python3 (the native messaging host fixtures run as /usr/bin/python3), and
# the Go modules. Run by `make test` and `make demo`; safe to run again.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need+=(chromium)
command -v firefox-esr >/dev/null 2>&1 || command -v firefox >/dev/null 2>&1 || need+=(firefox-esr)
[ -x /usr/bin/python3 ] || need+=(python3)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "extbridge needs ${need[*]}; install them as root:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  echo "installing ${need[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

go mod download
