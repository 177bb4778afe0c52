#!/bin/sh
# bootstrap.sh - from a fresh Debian 12 machine to a running relayguard or a
# full test run.  Run as root (or with sudo) from the top of the source tree.
#
#   sh contrib/bootstrap.sh run    install build dependencies, build, and run
#                                  the filter in the foreground on the sample
#                                  configuration (socket inet:8890@127.0.0.1)
#   sh contrib/bootstrap.sh test   install build and test dependencies, build
#                                  with -Werror and ASan/UBSan, run make check
#                                  and make distcheck, the Debian package, the
#                                  fuzzers, the end-to-end tests under
#                                  valgrind, the soak test
set -eu

BUILD_PKGS="build-essential autoconf automake pkg-config libmilter-dev libspf2-dev
	libunbound-dev libpcre2-dev libhiredis-dev"
# Test-only: real MTAs, DNS and Redis servers, SMTP and milter clients
# (libio-socket-inet6-perl: swaks over ::1; sasl2-bin: saslpasswd2 for
# the SASL tests), the packaging and fuzzing tools, and python3 with PyYAML
# for the RFC 7208 SPF suite driver (test/spf/rfc7208.py).  Sendmail is not
# installed (it conflicts with postfix): test/e2e/sendmail.sh fetches its
# packages with apt-get download and unpacks them; it needs m4 for its .cf
# and the shared libraries sendmail-bin depends on.
TEST_PKGS="postfix miltertest unbound nsd redis-server swaks libio-socket-inet6-perl
	libsasl2-modules sasl2-bin curl debhelper dpkg-dev clang libclang-rt-dev
	m4 libdb5.3 libldap-2.5-0 libnsl2 libsasl2-2 libssl3 python3 python3-yaml valgrind"

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

install_pkgs() {
	# Postfix asks debconf questions; answer "No configuration" non-interactively.
	echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
	# shellcheck disable=SC2086
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $*
}

case ${1:-} in
run)
	install_pkgs $BUILD_PKGS
	autoreconf -fi
	./configure
	make -j"$(nproc)"
	echo "relayguard: listening on inet:8890@127.0.0.1 (Postfix: smtpd_milters = inet:127.0.0.1:8890)"
	exec ./milter/relayguard -f -c contrib/relayguard.conf -p inet:8890@127.0.0.1 -u nobody
	;;
test)
	install_pkgs $BUILD_PKGS $TEST_PKGS
	# Every part is installed now: an MTA test that would skip fails instead.
	RG_NO_SKIP=yes
	export RG_NO_SKIP
	autoreconf -fi
	./configure --enable-werror --enable-sanitizers
	make -j"$(nproc)"
	make -j"$(nproc)" check || { cat test-suite.log 2>/dev/null | tail -n 200; exit 1; }
	make -j"$(nproc)" distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-werror --enable-sanitizers --with-systemdsystemunitdir=\$\${libdir}/systemd/system"
	# The Debian package builds from a clean copy of the tree.
	pkg=$(mktemp -d /tmp/rgdeb.XXXXXX)
	git clone -q . "$pkg/relayguard" 2>/dev/null || cp -r . "$pkg/relayguard"
	(cd "$pkg/relayguard" && cp -r contrib/debian debian && dpkg-buildpackage -us -uc -b >"$pkg/build.log" 2>&1) ||
		{ tail -n 50 "$pkg/build.log"; exit 1; }
	dpkg-deb -c "$pkg"/relayguard_*.deb | grep -q ' ./usr/sbin/relayguard$'
	echo "bootstrap: built $(ls "$pkg"/relayguard_*.deb)"
	rm -rf "$pkg"
	# libFuzzer targets, each for a bounded time, from a clean clang build.
	fz=$(mktemp -d /tmp/rgfz.XXXXXX)
	git clone -q . "$fz/relayguard" 2>/dev/null || cp -r . "$fz/relayguard"
	(cd "$fz/relayguard" && autoreconf -fi && ./configure -q CC=clang --enable-fuzzers &&
		make -j"$(nproc)" fuzz && sh test/fuzz/run-fuzzers.sh "${FUZZ_SECONDS:-30}")
	rm -rf "$fz"
	# The end-to-end tests with relayguard under valgrind's memcheck (no
	# invalid access, no definite leak), from a plain build: ASan and
	# memcheck do not mix.
	# Sendmail's unpacked packages are reused from the make check above.
	vg=$(mktemp -d /tmp/rgvg.XXXXXX)
	smcache=$(pwd)/test/sendmail-cache
	git clone -q . "$vg/relayguard" 2>/dev/null || cp -r . "$vg/relayguard"
	(cd "$vg/relayguard" && autoreconf -fi && ./configure -q && make -j"$(nproc)" &&
		RG_SENDMAIL_CACHE=$smcache sh test/valgrind/run-e2e.sh postfix postfix-turf dns flood sendmail &&
		# The soak test, small: mixed traffic, reloads, DNS and Redis
		# outages for 100 s; its memory figures need this plain build.
		sh test/soak/soak.sh -t "${SOAK_SECONDS:-100}")
	rm -rf "$vg"
	;;
*)
	echo "usage: sh contrib/bootstrap.sh run|test" >&2
	exit 64
	;;
esac
