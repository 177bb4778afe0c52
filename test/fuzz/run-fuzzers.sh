#!/bin/sh
# run-fuzzers.sh SECONDS - run every libFuzzer target for SECONDS each, from
# a seed corpus built out of the test suite (golden configs and scripts,
# the addresses they use).  Run in a build configured with CC=clang
# --enable-fuzzers after "make fuzz".  A crash fails the run and prints the
# input; keep it under test/fuzz/regress/TARGET/ once fixed.
set -u
secs=${1:-30}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/rgfz.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT
status=0
mkdir -p "$work/addr" "$work/config" "$work/script" "$work/rules" "$work/message"
cp "$src"/test/golden/*.rules "$src"/contrib/rules/*.rules "$work/rules/" 2>/dev/null
cp "$src"/test/golden/*.conf "$src"/contrib/relayguard.conf "$work/config/" 2>/dev/null
cp "$src"/test/golden/*.in "$work/script/" 2>/dev/null
i=0
grep -h -o '<[^>]*>' "$src"/test/golden/*.in | sort -u | while IFS= read -r a; do
	i=$((i+1)); printf '%s' "$a" > "$work/addr/seed$i"; done
for t in addr config script rules message; do
	cp "$src"/test/fuzz/regress/$t/* "$work/$t/" 2>/dev/null
	echo "fuzz: $t for ${secs}s"
	if ! ./test/fuzz/fuzz_$t -max_total_time="$secs" -max_len=4096 -timeout=10 \
		-artifact_prefix="$work/crash-$t-" "$work/$t" > "$work/$t.log" 2>&1; then
		tail -n 60 "$work/$t.log"
		for c in "$work"/crash-$t-*; do
			[ -f "$c" ] && { echo "crash input ($c), base64:"; base64 "$c"; }
		done
		status=1
	else
		grep -E '^(#[0-9]+\s+DONE|Done)' "$work/$t.log" | tail -n 1
	fi
done
exit $status
