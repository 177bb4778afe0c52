#!/bin/sh
# run-e2e.sh - run end-to-end tests with relayguard under valgrind's
# memcheck, and fail on any invalid access or definite leak.
#
#   sh test/valgrind/run-e2e.sh [TEST...]      (default: test/e2e/postfix.sh)
#
# Each TEST is a test/e2e/NAME.sh (or just NAME), or another script that
# starts relayguard through test/lib/mta.sh, with its arguments in the
# same word: "test/soak/soak.sh -t 60 -c 2".  Run from the top of a
# build tree configured WITHOUT --enable-sanitizers: ASan and memcheck do
# not mix (contrib/bootstrap.sh makes such a build in a clone).  As root,
# like the tests themselves.  Environment: RELAYGUARD (default
# ./milter/relayguard), VALGRIND (default valgrind), VG_KEEP=yes keeps the
# valgrind logs, top_srcdir/top_builddir (default .).
#
# The tests start relayguard through test/lib/mta.sh, which puts
# $RG_WRAPPER in front of it.  relayguard is a master that forks a worker
# (no exec): memcheck follows the fork by itself, and --trace-children=yes
# covers any program the daemon may exec.  Each process writes its own log
# (--log-file=...%p); every one must end with "ERROR SUMMARY: 0 errors".
# Definite leaks count as errors (--errors-for-leak-kinds=definite);
# "still reachable" memory at exit (the shared back ends the worker keeps
# until exit(), by design) and "possibly lost" (thread stacks and TLS of
# libmilter's and libunbound's threads still running at exit) do not.
# Suppressions (test/valgrind/relayguard.supp) are for allocations inside
# libunbound, libspf2 and libmilter only, each with its reason.
set -u

# Absolute: the tests hand these paths to servers that chdir elsewhere.
top_srcdir=$(cd "${top_srcdir:-.}" && pwd)
top_builddir=$(cd "${top_builddir:-.}" && pwd)
export top_srcdir top_builddir
RELAYGUARD=${RELAYGUARD:-$top_builddir/milter/relayguard}
VALGRIND=${VALGRIND:-valgrind}

command -v "$VALGRIND" >/dev/null 2>&1 || {
	echo "run-e2e.sh: $VALGRIND is not installed (Debian: apt-get install valgrind)" >&2
	exit 77
}
[ -x "$RELAYGUARD" ] || {
	echo "run-e2e.sh: no relayguard at $RELAYGUARD (build first)" >&2
	exit 2
}
if ldd "$RELAYGUARD" 2>/dev/null | grep -q 'lib[at]san'; then
	echo "run-e2e.sh: $RELAYGUARD is built with sanitizers; memcheck needs a plain build" \
		"(./configure without --enable-sanitizers)" >&2
	exit 2
fi
RELAYGUARD=$(cd "$(dirname "$RELAYGUARD")" && pwd)/$(basename "$RELAYGUARD")
export RELAYGUARD

[ $# -gt 0 ] || set -- test/e2e/postfix.sh
vgdir=$(mktemp -d /tmp/rgvg.XXXXXX) || exit 2
# The worker is forked as root and drops privileges later, but make sure
# any process can write its log here.
chmod 1777 "$vgdir"
supp=$top_srcdir/test/valgrind/relayguard.supp
RG_WRAPPER="$VALGRIND --tool=memcheck --trace-children=yes --leak-check=full
	--show-leak-kinds=definite --errors-for-leak-kinds=definite --error-exitcode=97
	--track-origins=yes --num-callers=30 --vgdb=no --gen-suppressions=all
	--suppressions=$supp --log-file=$vgdir/vg.%p.log"
# Under memcheck relayguard starts 20-50 times slower.
RG_START_SECONDS=${RG_START_SECONDS:-90}
export RG_WRAPPER RG_START_SECONDS

status=0
for t in "$@"; do
	# shellcheck disable=SC2086
	args=$(printf '%s\n' $t | tail -n +2 | tr '\n' ' ')
	t=${t%% *}
	case $t in
	*/*) path=$t ;;
	*) path=test/e2e/${t%.sh}.sh ;;
	esac
	[ -f "$path" ] || path=$top_srcdir/$path
	[ -f "$path" ] || {
		echo "run-e2e.sh: no test $t" >&2
		status=1
		continue
	}
	echo "== $path $args under memcheck"
	before=$(ls "$vgdir")
	# shellcheck disable=SC2086
	sh "$path" $args >"$vgdir/tap.out" 2>&1
	rc=$?
	cat "$vgdir/tap.out"
	if [ "$rc" -ne 0 ] || grep -q '^not ok' "$vgdir/tap.out"; then
		echo "run-e2e.sh: $path failed under memcheck (exit $rc)"
		status=1
	fi
	nlogs=0
	for log in "$vgdir"/vg.*.log; do
		[ -f "$log" ] || continue
		case " $(echo $before) " in *" $(basename "$log") "*) continue ;; esac
		nlogs=$((nlogs + 1))
		summary=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
		lost=$(sed -n 's/^==[0-9]*==    definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -n 1)
		echo "$(basename "$log"): errors ${summary:-?}, definitely lost ${lost:-0} bytes"
		if [ -z "$summary" ]; then
			echo "run-e2e.sh: $log has no ERROR SUMMARY: the process did not exit normally"
			status=1
		elif [ "$summary" != 0 ]; then
			echo "---- $log"
			cat "$log"
			status=1
		fi
	done
	if [ "$nlogs" -lt 2 ]; then
		echo "run-e2e.sh: $path left $nlogs valgrind logs; expected at least the master's and a worker's"
		status=1
	fi
done
if [ "${VG_KEEP:-no}" = yes ]; then
	echo "run-e2e.sh: logs kept in $vgdir"
else
	rm -rf "$vgdir"
fi
[ "$status" -eq 0 ] && echo "run-e2e.sh: no invalid access, no definite leak"
exit "$status"
