#!/usr/bin/env bash
# The suite against every installed target, every relay agent, the boot chains across
# daemons and real servers behind a real relay, then the conformance matrix from those
# runs. Used by .ci/run (debug build, out under target/) and to regenerate
# docs/conformance/ by hand:
#   cargo build --release -p bootcheck && ci/matrix.sh target/release/bootcheck target/matrix docs/conformance
# Needs root (the lab) and the daemons ci/install-deps.sh installs. Exits non-zero when
# a run does (a failure, or a recorded deviation that no longer happens).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/debug/bootcheck}"
out="${2:-target/ci-matrix}"
docs="${3:-$out/docs}"
mkdir -p "$out"
runs=()

one() { # NAME ARGS… : one run, JUnit beside its out dir
  local name="$1"; shift
  "$bin" run "$@" --format junit --out "$out/$name" > "$out/$name.junit.xml" \
    || { echo "run $name failed (bootcheck run $*): see $out/$name" >&2; exit 1; }
  runs+=("$out/$name")
}

for t in reference bootpd dnsmasq isc-dhcpd kea udhcpd tftpd-hpa atftpd rarpd; do
  one "$t" --target "$t"
done
# Relay agents, with the reference server behind them.
for r in dhcrelay dhcp-helper bootpgw dnsmasq-relay; do
  one "relay-$r" --target reference --relay "$r"
done
# Boot chains across daemons: a BOOTP (or RARP) server and a separate TFTP server,
# started together (`A+B`); the client boots end to end.
chains=(scenarios/tftp/bootp-then-tftp.yaml scenarios/rarp/rarp-then-tftp.yaml)
for t in bootpd+tftpd-hpa isc-dhcpd+atftpd kea+tftpd-hpa rarpd+tftpd-hpa rarpd+atftpd dnsmasq+rarpd; do
  one "$t" --target "$t" "${chains[@]}"
done
# Real servers behind a real relay: the relay-agent suite, and the relayed boot chain
# to ISC dhcpd and tftpd-hpa.
one relay-dhcrelay-isc-dhcpd --target isc-dhcpd+tftpd-hpa --relay dhcrelay

"$bin" matrix "${runs[@]}" --out "$docs"
"$bin" rfc --min-coverage 100 | tail -2   # every in-scope MUST/MUST NOT clause covered
