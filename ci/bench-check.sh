#!/usr/bin/env bash
# Throughput of `bootcheck check` against tshark on the same captures, in one run
# (issue 6): a capture of N synthetic boot packets (default 1,000,000: BOOTP, DHCP,
# relayed BOOTP and TFTP from the reference server, `bootcheck synth`), checked by
# bootcheck (every exchange paired, the whole rule catalogue on each) and dissected
# by tshark printing a few BOOTP/TFTP fields per packet. Best of RUNS wall times; peak
# RSS of each; a capture twice as long shows whether memory stays flat.
#
#   ci/bench-check.sh [PACKETS] [RUNS]      # writes target/bench/check.json and .md
set -euo pipefail
cd "$(dirname "$0")/.."
packets="${1:-1000000}"
runs="${2:-3}"
out=target/bench
mkdir -p "$out"
command -v tshark >/dev/null || { echo "bench-check: tshark is not installed (apt-get install tshark)" >&2; exit 2; }
cargo build --release --locked -q -p bootcheck
bc=./target/release/bootcheck
small="$out/synth-$packets.pcap"
big="$out/synth-$((packets * 2)).pcap"
[ -s "$small" ] || "$bc" synth --packets "$packets" --out "$small"
[ -s "$big" ] || "$bc" synth --packets "$((packets * 2))" --out "$big"

# best wall seconds and the RSS (KiB) of that run: measure CMD...
measure() {
	local best="" rss="" t r
	for _ in $(seq "$runs"); do
		/usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" >/dev/null 2>"$out/stderr.txt" || true
		read -r t r <"$out/time.txt"
		if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t rss=$r; fi
	done
	echo "$best $rss"
}
read -r bc_s bc_rss < <(measure "$bc" check -q "$small")
read -r bc2_s bc2_rss < <(measure "$bc" check -q "$big")
read -r ts_s ts_rss < <(measure tshark -r "$small" -Y "dhcp || tftp" -T fields \
	-e frame.number -e dhcp.id -e dhcp.option.dhcp -e tftp.opcode -e tftp.block)
ratio=$(awk "BEGIN{printf \"%.1f\", $ts_s / $bc_s}")
pps=$(awk "BEGIN{printf \"%.0f\", $packets / $bc_s}")
tshark_v=$(tshark -v 2>/dev/null | head -1)
cpu=$(awk -F: '/model name/{print $2; exit}' /proc/cpuinfo | sed 's/^ *//')
cat >"$out/check.json" <<JSON
{"packets": $packets, "runs": $runs, "cpu": "$cpu", "cores": $(nproc),
 "bootcheck_s": $bc_s, "bootcheck_rss_kib": $bc_rss, "bootcheck_2x_s": $bc2_s, "bootcheck_2x_rss_kib": $bc2_rss,
 "tshark": "$tshark_v", "tshark_s": $ts_s, "tshark_rss_kib": $ts_rss,
 "ratio": $ratio, "packets_per_s": $pps}
JSON
cat >"$out/check.md" <<MD
| $packets packets ($(du -h "$small" | cut -f1)) | wall (best of $runs) | peak RSS |
|---|---|---|
| \`bootcheck check -q\` | ${bc_s} s | $((bc_rss / 1024)) MiB |
| \`bootcheck check -q\`, twice the packets | ${bc2_s} s | $((bc2_rss / 1024)) MiB |
| \`tshark -Y "dhcp \|\| tftp" -T fields\` ($tshark_v) | ${ts_s} s | $((ts_rss / 1024)) MiB |

bootcheck is **${ratio}×** faster than tshark (goal ≥ 50×) at **${pps} packets/s** (goal ≥ 2,000,000) on one core of: $cpu.
MD
cat "$out/check.md"
