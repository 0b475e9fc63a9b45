#!/usr/bin/env bash
# Installs what tern needs on a Debian machine (run as root).
#   scripts/setup-debian.sh        what the appliance needs to run (PostgreSQL server binaries)
#   scripts/setup-debian.sh test   plus the real peers the tests drive: Kea 2.2, BIND 9,
#                                  DHCP clients, dig/kdig/nsupdate, lego and pebble (ACME DNS-01),
#                                  and octodns in a venv at /opt/tern-tools/venv
set -euo pipefail
want=(postgresql ca-certificates)
if [ "${1:-}" = test ]; then
  want+=(kea-admin kea-dhcp4-server kea-dhcp6-server kea-dhcp-ddns-server
         kea-ctrl-agent bind9 bind9-utils bind9-dnsutils knot-dnsutils knot dnsperf isc-dhcp-client dhcpcd-base udhcpc
         iproute2 procps curl openssl lego pebble python3-venv)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup-debian: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The Debian postgresql/kea/bind packages start system services; tern's tests start
  # their own private instances and never use those.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "${1:-}" = test ]; then
  # octodns and its PowerDNS and BIND providers for tests/pdns_tools.rs, pinned, in a venv
  # of their own outside the work tree (a `cargo clean` or a fresh clone keeps it).
  venv=/opt/tern-tools/venv
  pins=(octodns==1.22.0 octodns-powerdns==1.2.0 octodns-bind==1.1.0)
  check='from importlib.metadata import version as v; import sys
sys.exit([v(p) for p in ("octodns", "octodns-powerdns", "octodns-bind")] != ["1.22.0", "1.2.0", "1.1.0"])'
  if ! "$venv/bin/python" -c "$check" 2>/dev/null; then
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "${pins[@]}"
  fi
fi
if ! command -v cargo >/dev/null; then
  echo "setup-debian: cargo not found: install Rust (rustup) first" >&2
  exit 1
fi
