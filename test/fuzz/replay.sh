#!/bin/sh
# replay.sh - replay every fuzz target over its kept regression inputs
# (test/fuzz/regress/TARGET/) and over seeds taken from the other tests,
# with the ordinary build and its sanitizers (TAP).
set -u
src=${top_srcdir:?}
bin=${top_builddir:?}/test/fuzz
n=0; fail=0
run() { # TARGET FILE...
	target=$1; shift
	[ $# -gt 0 ] || return 0
	out=$("$bin/replay_$target" "$@" 2>&1)
	rc=$?
	n=$((n+1))
	if [ $rc = 0 ]; then echo "ok $n - $target: $# inputs"; else
		echo "not ok $n - $target"; echo "$out" | sed 's/^/# /' | tail -n 40; fail=1; fi
}
seeds() { for f in "$@"; do [ -f "$f" ] && echo "$f"; done; }
# shellcheck disable=SC2046
run addr $(seeds "$src"/test/fuzz/regress/addr/*)
# shellcheck disable=SC2046
run config $(seeds "$src"/test/fuzz/regress/config/* "$src"/test/golden/*.conf "$src"/contrib/relayguard.conf)
# shellcheck disable=SC2046
run script $(seeds "$src"/test/fuzz/regress/script/* "$src"/test/golden/*.in)
# shellcheck disable=SC2046
run rules $(seeds "$src"/test/fuzz/regress/rules/* "$src"/test/golden/*.rules "$src"/contrib/rules/*.rules)
# shellcheck disable=SC2046
run message $(seeds "$src"/test/fuzz/regress/message/*)
echo "1..$n"
exit $fail
