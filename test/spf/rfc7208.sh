#!/bin/sh
# rfc7208.sh - the openspf RFC 7208 conformance suite against relayguard's
# SPF path (TAP; see rfc7208.py).  Skips when python3 with PyYAML is
# missing; the script itself skips when the suite file is absent.
py=${PYTHON3:-python3}
if ! "$py" -c 'import yaml' 2>/dev/null; then
	for p in /usr/bin/python3; do
		if [ -x "$p" ] && "$p" -c 'import yaml' 2>/dev/null; then py=$p; break; fi
	done
fi
if ! "$py" -c 'import yaml' 2>/dev/null; then
	echo "1..0 # SKIP python3 with PyYAML not found (Debian: apt-get install python3-yaml)"
	exit 0
fi
exec "$py" "${top_srcdir:-.}/test/spf/rfc7208.py"
