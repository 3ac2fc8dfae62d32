#!/usr/bin/env bash
# scapy beside `bootcheck load` on the same veth against the same null responder
# (ci/bench.sh part 3): a lab, the null responder in its server namespace, then
# ci/scapy-loop.py in its client namespace, then `bootcheck load --target null` for the
# same time. Writes target/bench/scapy.json and scapy.md. Needs root and python3-scapy.
#   ci/bench-scapy.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
out=target/bench
mkdir -p "$out"
[ "$(id -u)" -eq 0 ] || { echo "bench-scapy: needs root (the lab)" >&2; exit 2; }
# Debian's python3-scapy is for /usr/bin/python3 (a pyenv python3 may come first in PATH).
PY=/usr/bin/python3
$PY -c 'import scapy' 2>/dev/null || apt-get install -y -q python3-scapy >/dev/null
cargo build --release --locked -q -p bootcheck
bc=$(pwd)/target/release/bootcheck
up=$("$bc" lab up)
id=$(echo "$up" | awk '/^lab /{print $2}')
cli_ns=$(echo "$up" | awk '/client:/{print $3}')
cli_if=$(echo "$up" | awk '/client:/{print $5}')
srv_ns=$(echo "$up" | awk '/server:/{print $3}')
srv_if=$(echo "$up" | awk '/server:/{print $5}')
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	[ -n "$pid" ] && wait "$pid" 2>/dev/null || true
	"$bc" lab down "$id" >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM
ip netns exec "$srv_ns" "$bc" null-responder --iface "$srv_if" --max-seconds $((secs * 4 + 60)) 2>"$out/null-responder.log" &
pid=$!
for _ in $(seq 50); do grep -qi ready "$out/null-responder.log" && break; sleep 0.1; done
ip netns exec "$cli_ns" timeout $((secs * 3 + 60)) $PY ci/scapy-loop.py "$cli_if" "$secs" >"$out/scapy-raw.json"
cleanup
trap - EXIT INT TERM
# bootcheck on the same kind of lab (its own), closed loop, the same time.
"$bc" load --target null --mode bootp --clients 200 --window 128 --duration "$secs" --format json --out "$out/scapy-vs-bootcheck" >"$out/scapy-bootcheck.json" 2>/dev/null || true
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
s = json.load(open(f"{out}/scapy-raw.json"))
b = json.load(open(f"{out}/scapy-bootcheck.json"))
def find(d, *keys):
    for k in keys:
        if isinstance(d, dict) and k in d:
            return d[k]
    return None
rate = find(b, "achieved_rate", "achieved_per_s", "rate") or find(b.get("result", {}), "achieved_rate", "achieved_per_s")
best = max(s["srp1"]["exchanges_per_s"], s["srp_batch256"]["exchanges_per_s"])
ratio = (rate / best) if rate and best else None
json.dump({"scapy": s, "bootcheck_rate": rate, "ratio_vs_best_scapy": ratio}, open(f"{out}/scapy.json", "w"), indent=1)
with open(f"{out}/scapy.md", "w") as f:
    f.write("| same veth, null responder | exchanges/s |\n|---|---|\n")
    for k, what in (("srp1", "scapy `srp1`, one at a time"), ("srp_batch256", "scapy `srp`, batches of 256")):
        x = s[k]
        f.write(f"| {what} (answered {x['answered']} of {x['sent']}) | {x['exchanges_per_s']:,.0f} |\n")
    f.write(f"| `bootcheck load --target null --mode bootp --window 128` | {rate:,.0f} |\n" if rate else "| bootcheck load | (no rate in its report) |\n")
    if ratio:
        f.write(f"\nbootcheck drives **{ratio:.0f}×** the exchanges/s of the best scapy loop on the same kind of veth.\n")
print(open(f"{out}/scapy.md").read())
PY
