#!/usr/bin/env bash
# Debian packages bootcheck's build and tests use. Idempotent: installs only what is
# missing. Needs root (uses sudo when not root).
#   libpcap-dev        the pcap crate (capture reading, raw lab ports)
#   tshark             the wire crate's differential test decodes every shared capture with it
#   tcpdump            regenerating fuzz seed corpora; the lab-leak test captures with it
#   iproute2, ethtool  the lab: network namespaces, veth pairs, offload switches
#   kea-admin          perfdhcp, which `bootcheck load --versus perfdhcp` runs beside bootcheck's load
#   bootp, dnsmasq, isc-dhcp-server, kea-dhcp4-server + kea-common (BOOTP hook),
#   udhcpd, isc-dhcp-relay, tftpd-hpa, rarpd
#                      real servers and relay agents the live tests start inside the lab (never by the
#                      package's own scripts: policy-rc.d below stops them from starting)
# Packages that conflict in apt with one above are unpacked instead (`apt-get download`
# + `dpkg -x` into /opt/bootcheck/<package>, nothing installed, nothing started); the
# target profiles point at the binaries there:
#   dhcp-helper        conflicts with isc-dhcp-relay
#   atftpd             conflicts with tftpd-hpa (`Conflicts: tftpd`); its libraries
#                      libpcre2-8-0 and libwrap0 are in `pkgs` below
set -euo pipefail
pkgs=(libpcap-dev tshark tcpdump iproute2 ethtool bootp dnsmasq isc-dhcp-server kea-dhcp4-server kea-common kea-admin udhcpd isc-dhcp-relay
      tftpd-hpa rarpd libpcre2-8-0 libwrap0)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
unpacked=(dhcp-helper atftpd)
unpack_missing=()
for p in "${unpacked[@]}"; do
  [ -d "/opt/bootcheck/$p" ] || unpack_missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && [ ${#unpack_missing[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]} ${unpack_missing[*]}" >&2; exit 2; }
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
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
for p in "${unpack_missing[@]}"; do
  tmp=$(mktemp -d) && chmod 755 "$tmp"
  (cd "$tmp" && apt-get download -q "$p" >/dev/null)
  $SUDO mkdir -p "/opt/bootcheck/$p"
  $SUDO dpkg -x "$tmp"/"$p"_*.deb "/opt/bootcheck/$p"
  rm -rf "$tmp"
done
