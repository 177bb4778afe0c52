#!/bin/sh
# install.sh - "make install DESTDIR=..." puts the program, the sample
# configuration, the man pages and the systemd unit under the configured
# prefix, the installed program accepts the installed configuration, and
# "make uninstall" removes what install added (TAP).
set -u
n=0; fail=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
builddir=${top_builddir:?}
dest=$(mktemp -d "${TMPDIR:-/tmp}/rginst.XXXXXX") || exit 99
trap 'chmod -R u+w "$dest"; rm -rf "$dest"' EXIT
vars=$(${MAKE:-make} -s --no-print-directory -C "$builddir" print-install-dirs)
eval "$vars"

${MAKE:-make} -s -C "$builddir" install DESTDIR="$dest" >"$dest.log" 2>&1
ok $? "make install DESTDIR succeeds"
for f in "$sbindir/relayguard" "$sysconfdir/relayguard/relayguard.conf" \
	"$mandir/man8/relayguard.8" "$mandir/man5/relayguard.conf.5" \
	"$systemdsystemunitdir/relayguard.service"; do
	[ -f "$dest$f" ]; ok $? "installed $f"
done
grep -q "^ExecStart=$sbindir/relayguard" "$dest$systemdsystemunitdir/relayguard.service"
ok $? "the unit starts the installed program"
if ! grep -q "$dest" "$dest$mandir/man8/relayguard.8"; then r=0; else r=1; fi
ok $r "installed files name the real paths, not DESTDIR"
"$dest$sbindir/relayguard" -n -c "$dest$sysconfdir/relayguard/relayguard.conf" >/dev/null 2>&1
ok $? "installed relayguard -n accepts the installed sample configuration"
echo "local_domains = mine.example" > "$dest$sysconfdir/relayguard/relayguard.conf"
${MAKE:-make} -s -C "$builddir" install DESTDIR="$dest" >>"$dest.log" 2>&1
grep -q mine.example "$dest$sysconfdir/relayguard/relayguard.conf"
ok $? "a second install keeps the administrator's configuration"
${MAKE:-make} -s -C "$builddir" uninstall DESTDIR="$dest" >>"$dest.log" 2>&1
ok $? "make uninstall succeeds"
[ ! -e "$dest$sbindir/relayguard" ] && [ ! -e "$dest$mandir/man8/relayguard.8" ]
ok $? "uninstall removes the program and man pages"
[ -f "$dest$sysconfdir/relayguard/relayguard.conf" ]
ok $? "uninstall keeps a configuration the administrator changed"
rm -f "$dest.log"
echo "1..$n"
exit $fail
