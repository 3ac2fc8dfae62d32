#!/usr/bin/env bash
# Fuzz smoke test: build every cargo-fuzz target in fuzz/ and run each one for N
# seconds (first argument, default 30) on the stable toolchain without a sanitizer.
# Exits non-zero if a target fails to build or any run finds a crash, a failed
# assertion, a timeout or an out-of-memory input (libFuzzer writes the input to
# fuzz/artifacts/TARGET/, which git ignores).
#
#   ci/fuzz-smoke.sh          # 30 s per target
#   ci/fuzz-smoke.sh 60       # 60 s per target
#   ci/fuzz-smoke.sh 10 tftp  # only the named targets
#
# The checked-in seed corpus (fuzz/corpus/TARGET) is read, never written: new inputs go
# to a scratch directory that is removed afterwards.
set -euo pipefail

secs="${1:-30}"
shift || true
case "$secs" in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS] [TARGET...]" >&2
	exit 2
	;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
	echo "fuzz-smoke: cargo fuzz not found, installing cargo-fuzz" >&2
	cargo install cargo-fuzz --locked
fi

# -s none: no sanitizer, so no nightly toolchain is needed. Debug assertions and
# overflow checks are on (cargo fuzz's default without -O).
cargo fuzz build -s none

if [ "$#" -gt 0 ]; then
	targets=("$@")
else
	mapfile -t targets < <(cargo fuzz list)
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

failed=()
summary=()
for t in "${targets[@]}"; do
	mkdir -p "$scratch/$t" "corpus/$t"
	log="$scratch/$t.log"
	echo "fuzz-smoke: $t for ${secs}s"
	# The first corpus directory receives new inputs; the seed corpus is read-only.
	if cargo fuzz run -s none "$t" "$scratch/$t" "corpus/$t" -- \
		-max_total_time="$secs" -dict=dict/dhcp.dict -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 >"$log" 2>&1; then
		status=ok
	else
		status=FAILED
		failed+=("$t")
		# Show what libFuzzer said about the failure.
		grep -E -A30 'panicked|==[0-9]+==|SUMMARY|Test unit written' "$log" | head -60 >&2 || tail -40 "$log" >&2
	fi
	done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)"
	execs="$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*//p' "$log" | tail -1)"
	cov="$(printf '%s\n' "$done_line" | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\).*/cov=\1 ft=\2/p')"
	summary+=("$(printf '%-14s %-6s exec/s=%-8s %s' "$t" "$status" "${execs:-?}" "${cov:-?}")")
done

echo
echo "fuzz-smoke summary (${secs}s per target):"
printf '  %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
	echo "fuzz-smoke: FAILED: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
	exit 1
fi
echo "fuzz-smoke: all ${#targets[@]} targets ran ${secs}s without a crash"
