#!/bin/sh
# layering.sh - structural rules the build must keep (TAP):
#  1. only milter/glue.c includes libmilter/mfapi.h (DESIGN: the core never sees libmilter);
#  2. nothing in rules/ or include/ includes a milter/ header;
#  3. every golden transcript and miltertest script on disk is listed in test/tests.am,
#     so none is silently left out of `make check`;
#  4. every what-if transcript's configuration sets rdns and spf (see below).
src=${top_srcdir:-.}
n=0; fail=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

bad=$(grep -l 'mfapi\.h' "$src"/rules/*.[ch] "$src"/include/*.h "$src"/milter/*.[ch] 2>/dev/null |
	grep -v '/milter/glue\.c$')
[ -z "$bad" ]; ok $? "only milter/glue.c includes mfapi.h ${bad:+(also: $bad)}"

bad=$(grep -l '#include "relayguard.h"' "$src"/rules/*.[ch] "$src"/include/*.h 2>/dev/null)
[ -z "$bad" ]; ok $? "the core includes no milter/ header ${bad:+($bad)}"

missing=
for f in "$src"/test/golden/*.in "$src"/test/milter/*.lua "$src"/test/milter/*.pl "$src"/test/e2e/*.sh \
	"$src"/test/dns/*.sh "$src"/test/spf/*.sh; do
	[ -e "$f" ] || continue
	rel=${f#"$src"/}
	grep -q "[[:space:]]$rel\\b" "$src/test/tests.am" || missing="$missing $rel"
done
[ -z "$missing" ]; ok $? "every golden and miltertest file is listed in test/tests.am${missing:+ (missing:$missing)}"

# 4. A what-if transcript never queries the system's resolver: its
#    configuration sets rdns and spf (off, unless it is a DNS transcript
#    with "# dns:" or dns_config), since their defaults (annotate) look up
#    every client and sender.  Configurations refused at start are exempt.
loose=
for in in "$src"/test/golden/*.in; do
	[ -e "$in" ] || continue
	grep -q '^# mode: check' "$in" && continue
	grep -q '^exit 78$' "${in%.in}.out" 2>/dev/null && continue # refused at start
	conf=$(sed -n 's/^# config: *//p' "$in" | head -n 1)
	[ -n "$conf" ] || conf=$(basename "$in" .in).conf
	f=$src/test/golden/$conf
	[ -e "$f" ] || continue
	grep -q '^rdns *=' "$f" && grep -q '^spf *=' "$f" && continue
	case " $loose " in *" $conf "*) ;; *) loose="$loose $conf" ;; esac
done
[ -z "$loose" ]; ok $? "every what-if transcript's configuration sets rdns and spf${loose:+ (missing in:$loose)}"

echo "1..$n"
exit $fail
