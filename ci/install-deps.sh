#!/usr/bin/env bash
# Debian packages bootcheck's build and tests use. Idempotent: installs only what is
# missing. Needs root (uses sudo when not root).
#   libpcap-dev        the pcap crate (capture reading, raw lab ports)
#   tshark             the wire crate's differential test decodes every shared capture with it
#   tcpdump            regenerating fuzz seed corpora; the lab-leak test captures with it
#   iproute2, ethtool  the lab: network namespaces, veth pairs, offload switches
#   bootp, dnsmasq, isc-dhcp-server, kea-dhcp4-server + kea-common (BOOTP hook),
#   udhcpd             real servers the live tests start inside the lab (never by the
#                      package's own scripts: policy-rc.d below stops them from starting)
set -euo pipefail
pkgs=(libpcap-dev tshark tcpdump iproute2 ethtool bootp dnsmasq isc-dhcp-server kea-dhcp4-server kea-common udhcpd)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 2; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# No installed daemon may start by itself: the lab starts servers, by PID, inside its
# namespaces. policy-rc.d must exist before the first install.
if [ ! -x /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
fi
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
