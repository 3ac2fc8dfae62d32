#!/usr/bin/env bash
# `bootcheck load` measured (issue 8 items 1-3), every run bounded and in a lab of its
# own (network namespaces, RFC 5737 addresses only):
#   1. the harness ceiling: the null responder, closed loop (BOOTP and DORA) and open
#      loop at 50,000 exchanges/s, each CEILING_RUNS times (default 3: the machine is
#      shared, a run can lose the CPU for a while);
#   2. bootcheck beside perfdhcp: the same DHCP DORA load against the same Kea at each
#      of KEA_RATES (default "2000 3000 4000 5000 6000"; bootcheck with up to 4 DORAs in
#      flight per client, as perfdhcp allows any number), perfdhcp in its default
#      (multi-thread) mode and, at SINGLE_RATES (default "4000 5000"), in its
#      single-thread mode (-g single); and bootcheck closed loop against Kea;
#   3. BOOTP load, closed loop, against the reference server, isc-dhcpd, dnsmasq and Kea;
#   4. relayed load: the harness as relay agent, and through dhcrelay (isc-dhcp-relay).
# Each run's load.json is kept under target/bench/load-runs/NAME/; all of them go into
# target/bench/load.json, and the tables into target/bench/load.md.
#
#   sudo ci/bench-load.sh [SECONDS]     # default 10 s per run; about 7 minutes in all
#
# Needs root (the lab), the servers and perfdhcp (ci/install-deps.sh), python3. Measure
# on a quiet machine: the load average is recorded before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
kea_rates="${KEA_RATES:-2000 3000 4000 5000 6000}"
single_rates="${SINGLE_RATES:-4000 5000}"
ceiling_runs="${CEILING_RUNS:-3}"
out=target/bench
runs="$out/load-runs"
[ "$(id -u)" -eq 0 ] || { echo "bench-load: needs root (the lab)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "bench-load: needs python3 (the tables)" >&2; exit 2; }
rm -rf "$runs"
mkdir -p "$runs"
cargo build --release --locked -q -p bootcheck
bc=./target/release/bootcheck
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# run NAME ARGS…: one bounded load run; exit 1 (threshold missed) is a result, not an error.
run() {
	local name=$1
	shift
	echo "== $name: bootcheck load $* --duration $secs" >&2
	echo "$name" >>"$runs/order"
	local rc=0
	timeout $((secs * 3 + 120)) "$bc" load "$@" --duration "$secs" --out "$runs/$name" >"$runs/$name.txt" 2>&1 || rc=$?
	if [ "$rc" -gt 1 ]; then
		echo "bench-load: $name failed (exit $rc):" >&2
		tail -n 20 "$runs/$name.txt" >&2
		exit 1
	fi
	grep -E "^(achieved|latency|cpu|PASS|FAIL)" "$runs/$name.txt" >&2 || true
}

# 1. The harness alone.
for i in $(seq "$ceiling_runs"); do
	run "null-closed-bootp-$i" --target null --mode bootp --clients 200 --window 128
	run "null-closed-dora-$i" --target null --mode dora --clients 200 --window 128
	run "null-open-bootp-50k-$i" --target null --mode bootp --clients 200 --per-client 4 --rate 50000
done
# 2. Beside perfdhcp, against Kea.
for r in $kea_rates; do
	run "kea-dora-vs-perfdhcp-$r" --target kea --mode dora --versus perfdhcp --clients 200 --per-client 4 --rate "$r"
done
for r in $single_rates; do
	run "kea-dora-vs-perfdhcp-single-$r" --target kea --mode dora --versus perfdhcp --perfdhcp-arg=-g --perfdhcp-arg=single \
		--clients 200 --per-client 4 --rate "$r"
done
run kea-dora-closed --target kea --mode dora --clients 200 --window 32
# 3. BOOTP, as fast as each server answers.
for t in reference isc-dhcpd dnsmasq kea; do
	run "bootp-closed-$t" --target "$t" --mode bootp --clients 200 --window 32
done
# 4. Relayed.
run relayed-harness-isc-dhcpd --target isc-dhcpd --mode relayed --clients 200 --window 32
run relayed-dhcrelay-isc-dhcpd --target isc-dhcpd --relay dhcrelay --mode relayed --clients 200 --window 32
run relayed-dhcrelay-reference --target reference --relay dhcrelay --mode relayed --clients 200 --window 32

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$runs" "$out" "$secs" "$load_before" "$load_after" <<'PY'
import json, os, platform, subprocess, sys
runs, out, secs, before, after = sys.argv[1:6]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((int(l.split()[1]) // 1024 // 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
reports = {}
for name in open(os.path.join(runs, "order")).read().split():
    p = os.path.join(runs, name, "load.json")
    if os.path.isfile(p):
        reports[name] = json.load(open(p))
machine = {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem, "kernel": platform.release(),
           "loadavg_before": before, "loadavg_after": after, "seconds_per_run": float(secs)}
json.dump({"machine": machine, "runs": reports}, open(os.path.join(out, "load.json"), "w"), indent=2)

def us(v):
    return "-" if v is None else (f"{v/1000:.2f} ms" if v >= 1000 else f"{v:.0f} µs")
def lat(r, k="latency"):
    l = r.get(k) or {}
    return f"{us(l.get('median_us'))} / {us(l.get('p99_us'))} / {us(l.get('max_us'))}"
def pct(x):
    return f"{x*100:.2f} %"
def row(name, r):
    pacing = f"open {r['rate']:.0f}/s" if r["pacing"] == "open" else f"closed, window {r['window']}"
    via = r["target"] + (f" via {r['relay']}" if r.get("relay") else "")
    return (f"| {name} | {via} | {r['mode']} | {pacing} | {r['achieved_rate']:.0f} | {pct(r['drop_ratio'])} "
            f"| {r['orphans']} / {r['duplicates']} | {lat(r)} | {r['cpu']['harness_s']:.1f} / {r['cpu']['server_s']:.1f} |")
md = []
md.append(f"Machine: {cpu}, {os.cpu_count()} cores, {mem} GiB, Linux {platform.release()}; "
          f"load average {before} before, {after} after; {secs} s per run.\n")
md.append("| run | target | mode | pacing | achieved/s | drop ratio | orphans / dups | latency p50 / p99 / max | CPU s harness / server |")
md.append("|---|---|---|---|---|---|---|---|---|")
for name, r in reports.items():
    md.append(row(name, r))
vs = [(n, r) for n, r in reports.items() if r.get("versus")]
if vs:
    md.append("\nbootcheck beside perfdhcp, the same DORA load against the same Kea (a fresh server each):\n")
    md.append("| offered DORA/s | perfdhcp mode | perfdhcp achieved | perfdhcp drops | perfdhcp DO / RA avg | perfdhcp CPU s "
              "| bootcheck achieved | bootcheck drops | bootcheck DO / RA avg | DORA p50 / p99 | bootcheck CPU s | Kea CPU s (perfdhcp / bootcheck) |")
    md.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n, r in vs:
        p = r["versus"]
        do, ra = p.get("discover_offer") or {}, p.get("request_ack") or {}
        pav = lambda l: us(l.get("avg_ms") * 1000) if l.get("avg_ms") is not None else "-"
        bav = lambda k: us((r.get(k) or {}).get("mean_us"))
        l = r.get("latency") or {}
        mode = "single" if "single" in p.get("command", []) else "default"
        md.append(f"| {p['rate']:.0f} | {mode} | {p['achieved_rate']:.0f} | {pct(p['drop_ratio'])} | {pav(do)} / {pav(ra)} | {p['perfdhcp_cpu_s']:.1f} "
                  f"| {r['achieved_rate']:.0f} | {pct(r['drop_ratio'])} | {bav('latency_discover_offer')} / {bav('latency_request_ack')} "
                  f"| {us(l.get('median_us'))} / {us(l.get('p99_us'))} | {r['cpu']['harness_s']:.1f} | {p['server_cpu_s']:.1f} / {r['cpu']['server_s']:.1f} |")
open(os.path.join(out, "load.md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
echo "bench-load: $out/load.json, $out/load.md" >&2
