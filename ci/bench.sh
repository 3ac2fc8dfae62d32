#!/usr/bin/env bash
# One run, side by side, writing docs/PERFORMANCE.md (issue 8): bootcheck against the
# tool people would use otherwise, on the same input, on this machine.
#
#   1. wire decode: bootcheck-wire vs the dhcproto crate on the same real replies
#      (criterion, `cargo bench -p bootcheck-wire --bench decode`);
#   2. offline check: `bootcheck check` vs `tshark -T fields` on the same 1M-packet
#      capture (ci/bench-check.sh), and memory on twice as many packets;
#   3. load: the harness ceiling against the null responder and bootcheck vs perfdhcp
#      against Kea (ci/bench-load.sh), and a scapy send/receive loop on the same veth;
#   4. the scenario suite's wall time against each installed target (`bootcheck run`).
#
#   ci/bench.sh                 # everything, then docs/PERFORMANCE.md
#   BENCH_PACKETS=200000 ci/bench.sh   # a quicker, smaller check bench
# Needs root (the lab) and the daemons of ci/install-deps.sh; installs tshark and
# python3-scapy if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench
mkdir -p "$out"
export DEBIAN_FRONTEND=noninteractive
need() { command -v "$1" >/dev/null || apt-get install -y -q "$2" >/dev/null; }
need tshark tshark
/usr/bin/python3 -c 'import scapy' 2>/dev/null || apt-get install -y -q python3-scapy >/dev/null
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%MZ)

echo "== 1. decode: bootcheck-wire vs dhcproto"
cargo bench --locked -q -p bootcheck-wire --bench decode -- --noplot >"$out/decode.txt" 2>&1 || true
est() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['mean']['point_estimate'])" "$1" 2>/dev/null || echo 0; }
bw=$(est target/criterion/decode-replies/bootcheck-wire/new/estimates.json)
dp=$(est target/criterion/decode-replies/dhcproto/new/estimates.json)
decode_ratio=$(awk "BEGIN{ if ($bw > 0) printf \"%.1f\", $dp / $bw; else print \"n/a\" }")

echo "== 2. check: bootcheck vs tshark"
bash ci/bench-check.sh "${BENCH_PACKETS:-1000000}" 3 >/dev/null
check_md=$(cat "$out/check.md")

echo "== 3. load: harness ceiling, perfdhcp, scapy"
if [ -x ci/bench-load.sh ] || [ -f ci/bench-load.sh ]; then
	bash ci/bench-load.sh >/dev/null 2>"$out/load.err" || echo "bench-load failed: see $out/load.err" >&2
fi
bash ci/bench-scapy.sh 10 >/dev/null 2>"$out/scapy.err" || echo "bench-scapy failed: see $out/scapy.err" >&2
load_md=$( [ -f "$out/load.md" ] && cat "$out/load.md" || echo "(ci/bench-load.sh did not run)")
scapy_md=$( [ -f "$out/scapy.md" ] && cat "$out/scapy.md" || echo "(no scapy comparison in this run)")

echo "== 4. the suite's wall time per target"
cargo build --release --locked -q -p bootcheck
suite_rows=""
for t in reference bootpd dnsmasq isc-dhcpd kea udhcpd tftpd-hpa atftpd rarpd; do
	s=$(date +%s.%N)
	./target/release/bootcheck run --target "$t" --format json --out "$out/suite-$t" >"$out/suite-$t.json" 2>/dev/null || true
	e=$(date +%s.%N)
	wall=$(awk "BEGIN{printf \"%.1f\", $e - $s}")
	totals=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); t=r.get('totals',{}); print(', '.join(f'{v} {k}' for k,v in t.items()))" "$out/suite-$t.json" 2>/dev/null || echo "?")
	goal=$(awk "BEGIN{print ($wall <= 10) ? \"met\" : \"not met\"}")
	suite_rows+="| $t | ${wall} s | $goal | $totals |"$'\n'
done

# Each ratio against its goal, from this run's JSON.
goals_md=$(python3 - "$out" "$decode_ratio" <<'PY'
import json, os, sys
out, decode = sys.argv[1], sys.argv[2]
rows = []
def load(p):
    try:
        return json.load(open(p))
    except Exception:
        return None
c = load(f"{out}/check.json")
if c:
    rows.append(("`bootcheck check` vs tshark, 1M packets", f"{c['ratio']}× faster", "≥ 50×", "met" if c["ratio"] >= 50 else "not met"))
    rows.append(("`bootcheck check` throughput, one core", f"{c['packets_per_s']:,} packets/s", "≥ 2,000,000", "met" if c["packets_per_s"] >= 2e6 else "not met"))
    flat = c["bootcheck_2x_rss_kib"] <= c["bootcheck_rss_kib"] * 1.1
    rows.append(("memory on 2× the packets", f"{c['bootcheck_rss_kib'] // 1024} → {c['bootcheck_2x_rss_kib'] // 1024} MiB", "flat", "met" if flat else "not met"))
l = load(f"{out}/load.json")
if l:
    runs = {r.get("name", i): r for i, r in enumerate(l["runs"])} if isinstance(l["runs"], list) else l["runs"]
    runs = list(runs.values())
    null = [r for r in runs if r.get("target") == "null" and r.get("mode") == "bootp"]
    if null:
        best = max(r["achieved_rate"] for r in null)
        rows.append(("harness ceiling (null responder, BOOTP)", f"{best:,.0f} exchanges/s", "≥ 50,000", "met" if best >= 50000 else "not met"))
    vs = [r for r in runs if r.get("versus")]
    if vs:
        ok = all(r["achieved_rate"] >= r["versus"]["achieved_rate"] * 0.99 and r["drop_ratio"] <= max(r["versus"]["drop_ratio"], 0.001) for r in vs)
        detail = ", ".join(f"{r['rate']:.0f}/s: {r['achieved_rate']:.0f} vs {r['versus']['achieved_rate']:.0f}" for r in vs)
        rows.append(("DORA rate vs perfdhcp against Kea (bootcheck vs perfdhcp)", detail, "≥ perfdhcp at equal drops", "met" if ok else "not met"))
sc = load(f"{out}/scapy.json")
if sc and sc.get("ratio_vs_best_scapy"):
    rows.append(("load driver vs scapy on the same veth", f"{sc['ratio_vs_best_scapy']:.0f}×", "(no goal)", "-"))
rows.append(("wire decode vs dhcproto", f"{decode}×", "(no goal)", "-"))
print("| measure | this run | goal | |\n|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
PY
)

cpu=$(awk -F: '/model name/{print $2; exit}' /proc/cpuinfo | sed 's/^ *//')
mem=$(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)
kernel=$(uname -r)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
rev=$(git rev-parse --short HEAD)
cat >docs/PERFORMANCE.md <<MD
# Performance

Generated by \`ci/bench.sh\` from one run (commit \`$rev\`, $started) on $(nproc) cores of
$cpu, $mem, Linux $kernel; load average $load_start at the start and $load_end at the
end. Ratios are from this one run; absolute times will differ elsewhere.

## Goals

$goals_md

The suite's wall time per target (goal ≤ 10 s) is in section 4.

## 1. Decoding replies: bootcheck-wire vs dhcproto

Criterion, the same real replies, header plus a typed walk of every option
(\`crates/wire/benches/decode.rs\`): bootcheck-wire $(awk "BEGIN{printf \"%.2f\", $bw/1000}") µs per batch,
dhcproto $(awk "BEGIN{printf \"%.2f\", $dp/1000}") µs: **${decode_ratio}×**.

## 2. Checking a capture: \`bootcheck check\` vs tshark

$check_md

## 3. Load: the harness alone, perfdhcp, scapy

$load_md

$scapy_md

## 4. The scenario suite against one daemon (goal ≤ 10 s)

Release build, \`bootcheck run --target T\` (default \`--jobs 16\`), wall time of the whole command.

| target | wall | ≤ 10 s | outcomes |
|---|---|---|---|
$suite_rows
MD
echo "wrote docs/PERFORMANCE.md"
