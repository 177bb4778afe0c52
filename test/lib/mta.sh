# mta.sh - shell library for relayguard's real-MTA end-to-end tests.
#
# A test sources it (". "$top_srcdir/test/lib/mta.sh") and gets:
#   - TAP output: tap_ok/tap_fail/tap_check/tap_is/tap_like/tap_skip,
#     tap_skip_all, tap_bail, tap_done (plan at the end);
#   - a private temp dir under a short /tmp/rg.XXXXXX with an exit trap that
#     stops every process started here and removes the dir;
#   - free loopback TCP ports picked at run time;
#   - an smtp-sink that dumps every message it receives to a directory;
#   - a throwaway Postfix on loopback relaying everything to the sink;
#   - a throwaway Sendmail 8.17 the same way (Debian's packages unpacked
#     into a private directory, run in a private namespace; see the
#     Sendmail part below), with a second, LMTP sink for its local mailer;
#   - relayguard started with a given config, reloaded and stopped;
#   - one SMTP dialogue at a time with swaks from a chosen loopback source
#     address, the server's reply to every command captured;
#   - waits that poll with a timeout instead of sleeping blindly;
#   - helpers to assert on log lines.
#
# A test, in this order (Postfix's main.cf names the sink's and relayguard's
# ports, so those start first):
#
#   . "${top_srcdir:-.}/test/lib/mta.sh"
#   mta_require_postfix                 # or skip: 1..0 # SKIP reason
#   mta_init
#   mta_write "$RG_TMP/rg.conf" <<EOF       # the default trusts 127/8
#   local_domains = example.com
#   trusted_networks = 127.0.0.1/32 ::1/128
#   EOF
#   mta_sink_start
#   mta_rg_start "$RG_TMP/rg.conf" || tap_bail "relayguard did not start"
#   mta_postfix_init example.com       # then mta_postfix_set, mta_postfix_sasl
#   mta_postfix_start                   # Sendmail: mta_require_sendmail first,
#                                       # then mta_sendmail_init, mta_sendmail_set,
#                                       # mta_sendmail_sasl, mta_sendmail_start
#   mta_smtp 127.0.0.2 --to x@else.test --quit-after RCPT
#   tap_like "$(smtp_reply RCPT)" '^550 5\.7\.1 ' "relay refused"
#   mta_smtp 127.0.0.2 --to bob@example.com
#   mta_wait_delivered && tap_is "$(mta_sink_rcpts "$SMTP_TOKEN")" bob@example.com "delivered"
#   tap_done                            # plan, logs on failure, exit status
#
# Nothing listens beyond 127.0.0.1 and ::1.  Ports are never fixed: `make
# -j2 check` runs tests in parallel and other people run tests on the same
# machine.  Each server is recognised by a token in its greeting or log, so
# a port grabbed by someone else between the choice and the bind is
# noticed, and another one is tried.
#
# Shell: POSIX sh.  There is no `local`, so each function prefixes its own
# variables (_wu_ in mta_wait_until, ...); a test's own functions may do the
# same with prefixes not used here.  Functions that start processes set global
# variables instead of printing a result: inside $(...) they would run in
# a subshell whose children nobody stops.  Needs perl (swaks needs it
# anyway) for port picking and banner probes.
#
# Globals a test may read, and the function that sets them:
#   RG_TMP                       mta_init        the private temp dir
#   MTA_IPV6                     mta_init        "yes" if ::1 works here
#   SINK_PORT SINK_DIR           mta_sink_start
#   PF_PORT PF_ETC PF_QUEUE PF_LOG  mta_postfix_init / mta_postfix_start
#   LMTP_PORT                    mta_lmtp_sink_start (called by mta_sendmail_init)
#   SM_PORT SM_DIR SM_QUEUE SM_LOG SM_PID   mta_sendmail_init / mta_sendmail_start
#   SM_CACHE SM_ROOT             mta_require_sendmail (the unpacked packages)
#   MTA_KIND MTA_PORT MTA_LOG    the MTA that mta_smtp talks to
#   RG_PORT RG_PID RG_WORKER RG_LOG RG_MARK   mta_rg_start / mta_rg_reload
#   SMTP_TOKEN SMTP_QID SMTP_OUT SMTP_REPLIES  mta_smtp
#   RG_STATUS                    mta_rg_stop     relayguard's exit status
#
# Environment: RELAYGUARD (the program; default $top_builddir/milter/
# relayguard), RG_WRAPPER (a command relayguard runs under, e.g.
# "valgrind --trace-children=yes ...", see test/valgrind/run-e2e.sh;
# default none; RG_START_SECONDS, default 15, is how long its start may
# take), RG_USER (relayguard's -u, default nobody), RG_KEEP_TMP=yes
# keeps the temp dir for a post-mortem, RG_SENDMAIL_CACHE (where the
# unpacked Sendmail packages live; default test/sendmail-cache in the
# build tree).

PATH=$PATH:/usr/sbin:/sbin
export PATH

RELAYGUARD=${RELAYGUARD:-${top_builddir:-.}/milter/relayguard}
RG_USER=${RG_USER:-nobody}
RG_WRAPPER=${RG_WRAPPER:-}
RG_START_SECONDS=${RG_START_SECONDS:-15}

TAP_N=0
TAP_FAILED=0
TAP_PLANNED=
MTA_PIDS=
MTA_KIND=
MTA_PORT=
MTA_LOG=
SMTP_N=0
RG_PORT=
RG_PORT_PINNED=
RG_PID=
PF_PID=
RG_WORKER=
RG_MARK=0

# ---- TAP ---------------------------------------------------------------

tap_plan() {
	TAP_PLANNED=$1
	echo "1..$1"
}

# Skip the whole test: TAP's form of exit 77.  With RG_NO_SKIP=yes (set
# by contrib/bootstrap.sh test, which installs every part) a missing part
# is a failure: a CI run that silently skipped its MTAs would prove nothing.
tap_skip_all() {
	if [ "${RG_NO_SKIP:-}" = yes ]; then
		echo "Bail out! would skip, but RG_NO_SKIP=yes: $*"
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 0
}

# Stop the test: the environment is broken in a way that is a failure.
tap_bail() {
	echo "Bail out! $*"
	exit 1
}

tap_diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

# tap_result STATUS NAME...: one test line; returns STATUS.
tap_result() {
	_tr_st=$1
	shift
	TAP_N=$((TAP_N + 1))
	if [ "$_tr_st" -eq 0 ]; then
		echo "ok $TAP_N - $*"
	else
		echo "not ok $TAP_N - $*"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
	return "$_tr_st"
}

tap_ok() { tap_result 0 "$@"; }
tap_fail() { tap_result 1 "$@"; }

# tap_check NAME CMD...: ok if CMD succeeds.
tap_check() {
	_tc_name=$1
	shift
	if "$@"; then tap_ok "$_tc_name"; else tap_fail "$_tc_name"; fi
}

# tap_is GOT WANT NAME
tap_is() {
	if [ "$1" = "$2" ]; then
		tap_ok "$3"
	else
		tap_fail "$3"
		tap_diag "got:  '$1'"
		tap_diag "want: '$2'"
		return 1
	fi
}

# tap_like GOT ERE NAME
tap_like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		tap_ok "$3"
	else
		tap_fail "$3"
		tap_diag "got:  '$1'"
		tap_diag "want: /$2/"
		return 1
	fi
}

# tap_skip NAME REASON: a test that cannot run here.
tap_skip() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1 # SKIP $2"
}

# tap_done: the plan (unless given first), the logs if something failed, exit.
tap_done() {
	[ -n "$TAP_PLANNED" ] || echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ] || mta_dump_logs
	[ "$TAP_FAILED" -eq 0 ] && exit 0
	exit 1
}

# ---- prerequisites ------------------------------------------------------

# mta_require_postfix: skip the test unless a Postfix, swaks and perl are here.
mta_require_postfix() {
	command -v postfix >/dev/null 2>&1 ||
		tap_skip_all "postfix is not installed (apt-get install postfix)"
	command -v smtp-sink >/dev/null 2>&1 ||
		tap_skip_all "smtp-sink (part of postfix) is not installed"
	# -d: the built-in value; Debian's postfix installed with "No
	# configuration" has no /etc/postfix/main.cf for postconf to read.
	PF_MASTER=$(postconf -d -h daemon_directory 2>/dev/null)/master
	[ -x "$PF_MASTER" ] || tap_skip_all "no Postfix master program at $PF_MASTER"
	mta_require_common
}

mta_require_common() {
	command -v swaks >/dev/null 2>&1 || tap_skip_all "swaks is not installed (apt-get install swaks)"
	command -v perl >/dev/null 2>&1 || tap_skip_all "perl is not installed"
	perl -MIO::Socket::IP -e 1 2>/dev/null || tap_skip_all "perl lacks IO::Socket::IP"
	# Mail servers start as root and drop privileges; so does relayguard (-u).
	[ "$(id -u)" = 0 ] || tap_skip_all "needs root to run a real MTA and relayguard -u $RG_USER"
	id "$RG_USER" >/dev/null 2>&1 || tap_skip_all "no user $RG_USER for relayguard -u"
	[ -x "$RELAYGUARD" ] || tap_bail "RELAYGUARD=$RELAYGUARD is not an executable"
}

# ---- temp dir, processes, cleanup --------------------------------------

# mta_init: the private temp dir and the cleanup trap.  Call it first.
mta_init() {
	# Short and under /tmp: unix socket paths must stay under 108 bytes
	# even when `make distcheck` builds deep down.
	RG_TMP=$(mktemp -d /tmp/rg.XXXXXX) || tap_bail "cannot create a temp dir under /tmp"
	# Readable by the unprivileged users of the servers (postfix, nobody):
	# relayguard re-reads its config as nobody on reload.
	chmod 755 "$RG_TMP"
	mkdir "$RG_TMP/smtp"
	trap mta_cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	MTA_IPV6=no
	if perl -MIO::Socket::IP -e 'IO::Socket::IP->new(LocalHost => "::1", LocalPort => 0,
	    Listen => 1) or exit 1' 2>/dev/null; then
		MTA_IPV6=yes
	fi
}

# mta_smtp_v6: why an SMTP dialogue over ::1 cannot run here; true if it can.
# swaks needs IO::Socket::INET6 for IPv6 (Debian: libio-socket-inet6-perl).
mta_smtp_v6() {
	if [ "$MTA_IPV6" != yes ]; then
		echo "no IPv6 loopback (::1) here"
		return 1
	fi
	if ! swaks --support 2>&1 | grep -q '=== IPv6 supported'; then
		echo "swaks lacks IPv6 support (install libio-socket-inet6-perl)"
		return 1
	fi
}

mta_track() { MTA_PIDS="$1 $MTA_PIDS"; }

mta_untrack() {
	_ut_keep=
	for _ut_p in $MTA_PIDS; do
		[ "$_ut_p" = "$1" ] || _ut_keep="$_ut_keep $_ut_p"
	done
	MTA_PIDS=$_ut_keep
}

# mta_alive PID: the process exists and is not a zombie.  (A zombie still
# answers kill -0, and a daemon reparented to an init that does not reap
# stays one.)
mta_alive() {
	[ -n "$1" ] || return 1
	if [ -r "/proc/$1/stat" ]; then
		_al_st=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)
		[ -n "$_al_st" ] && [ "$_al_st" != Z ] && [ "$_al_st" != X ]
		return
	fi
	kill -0 "$1" 2>/dev/null
}

mta_dead() { ! mta_alive "$1"; }

# mta_kill_wait PID [SECONDS]: SIGTERM, then SIGKILL after SECONDS (5); reap it.
mta_kill_wait() {
	kill -TERM "$1" 2>/dev/null
	if ! mta_wait_until "${2:-5}" mta_dead "$1"; then
		kill -KILL "$1" 2>/dev/null
		mta_wait_until 2 mta_dead "$1"
	fi
	wait "$1" 2>/dev/null
	mta_untrack "$1"
}

# The exit trap: stop everything started here, newest first, then remove the dir.
mta_cleanup() {
	trap - EXIT
	for _cl_p in $MTA_PIDS; do
		if [ "$_cl_p" = "$PF_PID" ]; then
			mta_postfix_stop
		elif [ "$_cl_p" = "$SM_PID" ]; then
			mta_sendmail_stop
		else
			mta_kill_wait "$_cl_p" 20 # relayguard may take 5 s (libmilter)
		fi
	done
	# A relayguard worker outlives a master killed with SIGKILL only briefly
	# (PR_SET_PDEATHSIG), but make sure.
	mta_alive "$RG_WORKER" && kill -KILL "$RG_WORKER" 2>/dev/null
	if [ -n "$RG_TMP" ] && [ -d "$RG_TMP" ]; then
		if [ "${RG_KEEP_TMP:-no}" = yes ]; then
			echo "# kept $RG_TMP"
		else
			rm -rf "$RG_TMP"
		fi
	fi
}

# mta_dump_logs: the end of every log, as TAP comments (called on failure).
mta_dump_logs() {
	for _dl_f in "$RG_LOG" "$PF_LOG" "$SM_LOG" "$RG_TMP/sink.log" "$RG_TMP/postfix.out" \
		"$RG_TMP/sendmail.out"; do
		[ -n "$_dl_f" ] && [ -s "$_dl_f" ] || continue
		tap_diag "---- last lines of $_dl_f"
		tail -n 40 "$_dl_f" | sed 's/^/#   /'
	done
}

# ---- waiting -------------------------------------------------------------

# mta_wait_until SECONDS CMD...: run CMD every 0.1 s until it succeeds;
# false after SECONDS.
mta_wait_until() {
	_wu_n=$(($1 * 10)) _wu_i=0
	shift
	until "$@"; do
		_wu_i=$((_wu_i + 1))
		[ "$_wu_i" -lt "$_wu_n" ] || return 1
		sleep 0.1
	done
}

# mta_wait_ready PID SECONDS CMD...: like mta_wait_until, but give up as
# soon as process PID has died (a server that failed to start).
mta_wait_ready() {
	_wr_pid=$1 _wr_n=$(($2 * 10)) _wr_i=0
	shift 2
	until "$@"; do
		mta_alive "$_wr_pid" || return 1
		_wr_i=$((_wr_i + 1))
		[ "$_wr_i" -lt "$_wr_n" ] || return 1
		sleep 0.1
	done
}

# ---- ports and probes -----------------------------------------------------

# mta_free_port [v6]: print a TCP port free on 127.0.0.1 (and on ::1 with
# "v6" and MTA_IPV6=yes).  The port is closed again before it is used, so
# every start function checks it got its own server (see the header).
mta_free_port() {
	_fp_v6=0
	[ "${1:-}" = v6 ] && [ "$MTA_IPV6" = yes ] && _fp_v6=1
	perl -MIO::Socket::IP -e '
		for (1 .. 50) {
			my $s = IO::Socket::IP->new(LocalHost => "127.0.0.1", LocalPort => 0,
			    Listen => 1, ReuseAddr => 1) or next;
			my $p = $s->sockport;
			my $t;
			if ($ARGV[0]) {
				$t = IO::Socket::IP->new(LocalHost => "::1", LocalPort => $p,
				    Listen => 1, ReuseAddr => 1) or next;
			}
			print "$p\n";
			exit 0;
		}
		exit 1;' "$_fp_v6"
}

# mta_banner HOST PORT: print the server's first reply line (then QUIT).
mta_banner() {
	perl -MIO::Socket::IP -e '
		$SIG{ALRM} = sub { exit 1 };
		alarm 3;
		my $s = IO::Socket::IP->new(PeerHost => $ARGV[0], PeerPort => $ARGV[1],
		    Timeout => 2) or exit 1;
		my $l = <$s>;
		defined $l or exit 1;
		print $l;
		print $s "QUIT\r\n";
		<$s>;
		exit 0;' "$1" "$2" 2>/dev/null
}

# mta_dead_port PORT: nothing accepts connections on 127.0.0.1:PORT.
mta_dead_port() {
	! perl -MIO::Socket::IP -e 'IO::Socket::IP->new(PeerHost => "127.0.0.1",
	    PeerPort => $ARGV[0], Timeout => 2) or exit 1' "$1" 2>/dev/null
}

# mta_banner_has HOST PORT STRING: the greeting contains STRING.
mta_banner_has() {
	mta_banner "$1" "$2" | grep -qF -- "$3"
}

# ---- logs -----------------------------------------------------------------

# mta_log_mark FILE: how many lines FILE has now (pass it to the others).
mta_log_mark() {
	if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}

# mta_log_since FILE MARK: the lines added after MARK.
mta_log_since() {
	[ -f "$1" ] && tail -n +"$(($2 + 1))" "$1"
}

# mta_log_has FILE MARK ERE: a line added after MARK matches ERE.
mta_log_has() {
	mta_log_since "$1" "$2" | grep -Eq -- "$3"
}

# mta_log_grep FILE MARK ERE: print the lines added after MARK that match.
mta_log_grep() {
	mta_log_since "$1" "$2" | grep -E -- "$3"
}

# mta_log_count FILE MARK ERE: how many lines added after MARK match.
mta_log_count() {
	mta_log_since "$1" "$2" | grep -Ec -- "$3"
}

# mta_wait_log FILE MARK ERE [SECONDS]: wait (2 s) for such a line.
mta_wait_log() {
	mta_wait_until "${4:-2}" mta_log_has "$1" "$2" "$3"
}

# mta_ere STRING: STRING with the ERE metacharacters escaped.
mta_ere() {
	printf '%s\n' "$1" | sed 's/[][\.|$(){}?+*^]/\\&/g'
}

# ---- the sink ---------------------------------------------------------------

# mta_sink_start: an smtp-sink on 127.0.0.1:SINK_PORT; every transaction is
# dumped to a file of its own in SINK_DIR (smtp-sink(1) "DUMP FILE FORMAT":
# X-Client-Addr, X-Mail-Args, one X-Rcpt-Args per RCPT, then the message).
mta_sink_start() {
	SINK_DIR=$RG_TMP/sink
	mkdir -p "$SINK_DIR"
	chown "$RG_USER" "$SINK_DIR" # smtp-sink writes as its -u user
	mta_sink_spawn sink || tap_bail "cannot start smtp-sink (see $RG_TMP/sink.log)"
	SINK_PORT=$_sk_port SINK_PID=$_sk_pid
}

# mta_lmtp_sink_start: a second smtp-sink, speaking LMTP, on
# 127.0.0.1:LMTP_PORT, dumping into the same SINK_DIR (start the first one
# first).  Sendmail delivers its local mail there (see mta_sendmail_init).
mta_lmtp_sink_start() {
	mta_sink_spawn lmtp -L || tap_bail "cannot start the LMTP smtp-sink (see $RG_TMP/sink.log)"
	LMTP_PORT=$_sk_port LMTP_PID=$_sk_pid
}

# mta_sink_spawn NAME [SMTP-SINK-OPTION...]: start one smtp-sink on a free
# port; sets _sk_port and _sk_pid.  False if none would start.
mta_sink_spawn() {
	_sk_what=$1
	shift
	for _sk_try in 1 2 3 4 5; do
		_sk_port=$(mta_free_port) || break
		_sk_name=$_sk_what-$$-$_sk_try.test # in the greeting: proves the port is ours
		smtp-sink "$@" -u "$RG_USER" -h "$_sk_name" -d "$SINK_DIR/%Y%m%d%H%M%S." \
			"127.0.0.1:$_sk_port" 64 >>"$RG_TMP/sink.log" 2>&1 &
		_sk_pid=$!
		mta_track "$_sk_pid"
		mta_wait_ready "$_sk_pid" 5 mta_banner_has 127.0.0.1 "$_sk_port" "$_sk_name" && return 0
		mta_kill_wait "$_sk_pid"
	done
	return 1
}

# mta_sink_file TOKEN: the dump of the message carrying header X-RG-Token: TOKEN.
mta_sink_file() {
	grep -lF -- "X-RG-Token: $1" "$SINK_DIR"/* 2>/dev/null | head -n 1
}

mta_sink_has() { [ -n "$(mta_sink_file "$1")" ]; }

# mta_sink_rcpts TOKEN: that message's envelope recipients, one per line, sorted.
mta_sink_rcpts() {
	_sr_f=$(mta_sink_file "$1")
	[ -n "$_sr_f" ] || return 1
	sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$_sr_f" | sort
}

# mta_sink_rcpt_seen STRING: some message reached the sink with an
# envelope recipient containing STRING (any case).  Only the envelope
# counts: swaks copies every --to address into the To: header.
mta_sink_rcpt_seen() {
	cat "$SINK_DIR"/* 2>/dev/null | sed -n 's/^X-Rcpt-Args: //p' | grep -qiF -- "$1"
}

# ---- Postfix ----------------------------------------------------------------

# mta_postfix_init [LOCAL-DOMAIN...]: write a throwaway Postfix configuration
# under $RG_TMP/pf.  Postfix is an open relay here, so only relayguard
# protects it; every message leaves for the sink (start the sink first),
# mail for the local domains (default example.com) included, so the sink's
# dumps show exactly what was delivered.  If RG_PORT is set (start
# relayguard first), relayguard is Postfix's milter, with
# milter_default_action = tempfail.  Change settings with mta_postfix_set.
mta_postfix_init() {
	_pi_domains="${*:-example.com}" _pi_ifaces=127.0.0.1 _pi_protos=ipv4
	PF_DIR=$RG_TMP/pf
	PF_ETC=$PF_DIR/etc
	PF_QUEUE=$PF_DIR/queue
	PF_LOG=$PF_DIR/maillog
	PF_TOKEN=rg-test-$$
	# postfix check creates what is inside the queue directory, not the
	# directory itself (it chdirs there first and fails, logging to maillog).
	mkdir -p "$PF_ETC" "$PF_QUEUE"
	if [ "$MTA_IPV6" = yes ]; then
		_pi_ifaces="127.0.0.1, [::1]"
		_pi_protos="ipv4, ipv6"
	fi
	PF_PORT=$(mta_free_port v6) || tap_bail "no free port"
	cat >"$PF_ETC/main.cf" <<EOF
# Throwaway Postfix for relayguard's end-to-end tests (test/lib/mta.sh).
compatibility_level = 3.6
config_directory = $PF_ETC
queue_directory = $PF_QUEUE
data_directory = $PF_DIR/data
# No syslog on a test machine: postlogd writes the log here.
maillog_file = $PF_LOG
maillog_file_prefixes = $RG_TMP
myhostname = mx.example.com
mydomain = example.com
myorigin = \$mydomain
mydestination = ${_pi_domains}, localhost
inet_interfaces = $_pi_ifaces
inet_protocols = $_pi_protos
mynetworks = 127.0.0.1/32
# Identifies this instance's greeting (see mta_postfix_start).
smtpd_banner = \$myhostname ESMTP $PF_TOKEN
# Everything goes to the sink, local domains included.
relayhost = [127.0.0.1]:$SINK_PORT
local_transport = smtp:[127.0.0.1]:$SINK_PORT
# An open relay: relayguard alone decides.  Postfix 3.7 refuses
# "smtpd_relay_restrictions = permit" (smtpd: fatal: specify at least one
# working instance of reject_unauth_destination...); a static OK first has
# the same effect.
smtpd_relay_restrictions = check_client_access static:OK, reject_unauth_destination
smtpd_recipient_restrictions =
# Let every recipient reach the milter (Postfix would answer unknown users).
smtpd_reject_unlisted_recipient = no
local_recipient_maps =
alias_maps =
alias_database =
# No DNS anywhere: no client name lookups, the sink is an address literal.
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtp_connect_timeout = 5s
biff = no
EOF
	if [ -n "$RG_PORT" ]; then
		cat >>"$PF_ETC/main.cf" <<EOF
smtpd_milters = inet:127.0.0.1:$RG_PORT
milter_default_action = tempfail
milter_connect_timeout = 5s
milter_command_timeout = 10s
milter_content_timeout = 30s
EOF
		RG_PORT_PINNED=yes # Postfix knows the port now: relayguard must keep it
	fi
	mta_postfix_master_cf
}

# master.cf: the services this test needs, none chrooted (the chroot would
# need copies of /etc files inside the queue directory).
mta_postfix_master_cf() {
	{
		echo "127.0.0.1:$PF_PORT inet n - n - - smtpd"
		[ "$MTA_IPV6" = yes ] && echo "[::1]:$PF_PORT inet n - n - - smtpd"
		cat <<'EOF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	} >"$PF_ETC/master.cf"
	mta_postfix_settle
}

# mta_postfix_set "name = value"...: change main.cf settings.
mta_postfix_set() {
	postconf -c "$PF_ETC" -e "$@"
	mta_postfix_settle
}

# Postfix reads main.cf again and again, 300 ms apart, until its mtime is
# over a second old (a file being edited must not be read half-written):
# each command after a change would wait about 2 s.  Back-date the files.
mta_postfix_settle() {
	touch -t 200001010000 "$PF_ETC/main.cf" "$PF_ETC/master.cf"
}

# mta_postfix_sasl USER@REALM PASSWORD: Cyrus SASL with a private sasldb
# (PLAIN and LOGIN), for swaks --auth.  False if sasl2-bin is missing.
mta_postfix_sasl() {
	_ps_user=${1%@*} _ps_realm=${1#*@}
	command -v saslpasswd2 >/dev/null 2>&1 || return 1
	mkdir -p "$PF_ETC/sasl"
	# Debian's Postfix reads smtpd.conf from $config_directory/sasl (a
	# Debian patch) and ignores cyrus_sasl_config_path for it, so the file
	# goes there; cyrus_sasl_config_path is set too for other builds.
	cat >"$PF_ETC/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $PF_ETC/sasl/sasldb2
EOF
	printf '%s' "$2" | saslpasswd2 -p -c -f "$PF_ETC/sasl/sasldb2" -u "$_ps_realm" "$_ps_user" || return 1
	# smtpd reads it as mail_owner (postfix).
	_ps_owner=$(postconf -c "$PF_ETC" -h mail_owner) &&
		chgrp "$(id -g "$_ps_owner")" "$PF_ETC/sasl/sasldb2" &&
		chmod 640 "$PF_ETC/sasl/sasldb2" || return 1
	mta_postfix_set smtpd_sasl_auth_enable=yes smtpd_sasl_type=cyrus smtpd_sasl_path=smtpd \
		"cyrus_sasl_config_path=$PF_ETC/sasl"
}

# mta_postfix_start: start the instance; wait until it greets with its token.
#
# Why not `postfix -c DIR start`: as root it works here without listing
# DIR in alternate_config_directories, but its master forks away and is
# reparented to init, which on some test machines (containers, micro-VM
# inits; this one included) never reaps it: a stopped master stays a
# zombie that kill -0 cannot tell from a running one, and its children
# cannot be waited for.  So `postfix check` creates the queue and data
# directories with the right owners (post-install create-missing), and
# the master runs in the foreground as our child, to be stopped with
# SIGTERM and reaped with wait.  Nothing touches /etc/postfix or the
# system's queue: every path is under RG_TMP.
mta_postfix_start() {
	postfix -c "$PF_ETC" check >>"$RG_TMP/postfix.out" 2>&1 ||
		tap_bail "postfix check failed (see $RG_TMP/postfix.out and $PF_LOG)"
	for _pf_try in 1 2 3 4 5; do
		"$PF_MASTER" -c "$PF_ETC" >>"$RG_TMP/postfix.out" 2>&1 &
		PF_PID=$!
		mta_track "$PF_PID"
		if mta_wait_ready "$PF_PID" 10 mta_banner_has 127.0.0.1 "$PF_PORT" "$PF_TOKEN"; then
			MTA_KIND=postfix
			MTA_PORT=$PF_PORT
			MTA_LOG=$PF_LOG
			return 0
		fi
		# Most likely the port was taken meanwhile (master: fatal: bind): another one.
		mta_postfix_stop
		PF_PORT=$(mta_free_port v6) || break
		mta_postfix_master_cf
	done
	tap_bail "cannot start Postfix (see $PF_LOG and $RG_TMP/postfix.out)"
}

# mta_postfix_stop: SIGTERM to the master, which stops its children; wait
# until none of its session is left.
mta_postfix_stop() {
	[ -n "$PF_PID" ] || return 0
	mta_kill_wait "$PF_PID" 10
	mta_wait_until 5 mta_session_gone "$PF_PID"
	PF_PID=
}

# mta_session_gone SID: no live process is left in session SID.
mta_session_gone() {
	! ps -o stat= -s "$1" 2>/dev/null | grep -qv '^Z'
}

# mta_postfix_queue_empty: no message waits in any queue.
mta_postfix_queue_empty() {
	[ -z "$(find "$PF_QUEUE/maildrop" "$PF_QUEUE/incoming" "$PF_QUEUE/active" \
		"$PF_QUEUE/deferred" "$PF_QUEUE/hold" -type f 2>/dev/null | head -n 1)" ]
}

# mta_postfix_wait_delivered QID [SECONDS]: wait (10 s) until Postfix is
# done with QID; true if every recipient has status=sent.
mta_postfix_wait_delivered() {
	[ -n "$1" ] || return 1
	mta_wait_until "${2:-10}" mta_log_has "$PF_LOG" 0 " $1: removed\$" || return 1
	mta_log_has "$PF_LOG" 0 " $1: to=<.*, status=sent " &&
		! mta_log_has "$PF_LOG" 0 " $1: to=<.*, status=(deferred|bounced|expired) "
}

# ---- Sendmail -----------------------------------------------------------------
#
# Debian's sendmail-bin conflicts with the installed Postfix, so Sendmail is
# never installed: its packages are fetched once with `apt-get download`
# and unpacked with `dpkg -x` into SM_CACHE (default: test/sendmail-cache
# in the build tree, removed by make distclean; RG_SENDMAIL_CACHE names
# another, e.g. one prepared for machines without a Debian mirror).  Each
# test runs the unpacked daemon with a .cf made by m4 from its own .mc, in
# a private UTS and mount namespace (unshare) where
#   - the host name is mx.example.com and /etc/hosts, /etc/nsswitch.conf
#     ("hosts: files") and /etc/resolv.conf are the test's own: Sendmail
#     qualifies its name at start-up (an undotted name costs a 60 s sleep)
#     and looks up every client, and nothing may leave the machine;
#   - /dev is a small tmpfs with the few device nodes Sendmail opens and a
#     /dev/log of the test's own: Sendmail logs only to syslog, and the
#     test machine may have no syslog daemon (the lines land in SM_LOG);
#   - with mta_sendmail_sasl, /usr/lib/sasl2 (the last directory Cyrus
#     SASL searches for Sendmail.conf; Sendmail empties its environment, so
#     SASL_CONF_PATH cannot point elsewhere) shows the test's Sendmail.conf.
# Nothing of this is visible outside the namespace.

SM_PID=
SM_SYSLOG_PID=
LMTP_PORT=
SM_PACKAGES="sendmail-bin sendmail-base sendmail-cf libwrap0 liblockfile1"

# mta_require_sendmail: skip the test unless a Sendmail can run here:
# fetch and unpack the packages if the cache does not hold them yet.
mta_require_sendmail() {
	command -v smtp-sink >/dev/null 2>&1 ||
		tap_skip_all "smtp-sink (part of postfix) is not installed"
	command -v m4 >/dev/null 2>&1 || tap_skip_all "m4 is not installed (apt-get install m4)"
	for _rs_cmd in unshare mount hostname setsid; do
		command -v "$_rs_cmd" >/dev/null 2>&1 ||
			tap_skip_all "$_rs_cmd is not installed (util-linux, hostname)"
	done
	mta_require_common
	unshare --uts --mount true 2>/dev/null ||
		tap_skip_all "cannot make a private UTS and mount namespace (unshare --uts --mount)"
	mta_sendmail_fetch || tap_skip_all "$SM_WHY"
	SM_LIBDIR=$(dirname "$(find "$SM_ROOT" -name 'libwrap.so.0' | head -n 1)")
	_rs_missing=$(LD_LIBRARY_PATH=$SM_LIBDIR ldd "$SM_BIN" 2>&1 | sed -n 's/^[[:space:]]*\([^ ]*\) => not found.*/\1/p' | tr '\n' ' ')
	[ -z "$_rs_missing" ] ||
		tap_skip_all "the unpacked sendmail needs libraries not installed here: $_rs_missing(see contrib/bootstrap.sh TEST_PKGS)"
}

# mta_sendmail_fetch: SM_CACHE holds the unpacked packages (fetched now if
# not).  The unpacked sendmail is setgid mail, and glibc ignores
# LD_LIBRARY_PATH (needed for the unpacked libwrap) in set-id programs:
# the private copy loses its set-id bits.  False with SM_WHY set if the
# packages cannot be had.
mta_sendmail_fetch() {
	SM_CACHE=${RG_SENDMAIL_CACHE:-${top_builddir:-.}/test/sendmail-cache}
	mkdir -p "$(dirname "$SM_CACHE")" &&
		SM_CACHE=$(cd "$(dirname "$SM_CACHE")" && pwd)/$(basename "$SM_CACHE") || {
		SM_WHY="cannot create the directory of $SM_CACHE"
		return 1
	}
	SM_ROOT=$SM_CACHE/root
	SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail
	SM_CF=$SM_ROOT/usr/share/sendmail/cf
	[ -x "$SM_BIN" ] && [ -f "$SM_CF/m4/cf.m4" ] && return 0
	if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
		SM_WHY="no Sendmail in $SM_CACHE and no apt-get/dpkg to fetch one (Debian packages: $SM_PACKAGES)"
		return 1
	fi
	# Unpacked beside the cache and renamed into place: a run killed
	# half-way leaves no half-filled cache behind.
	_sf_tmp=$(mktemp -d "$SM_CACHE.tmp.XXXXXX") || {
		SM_WHY="cannot create a directory beside $SM_CACHE"
		return 1
	}
	# shellcheck disable=SC2086
	if ! (cd "$_sf_tmp" && apt-get -q -o APT::Sandbox::User=root download $SM_PACKAGES) \
		>"$_sf_tmp/fetch.log" 2>&1; then
		SM_WHY="apt-get download $SM_PACKAGES failed: $(grep -v '^Get:' "$_sf_tmp/fetch.log" | tail -n 2 | tr '\n' ' ')"
		rm -rf "$_sf_tmp"
		return 1
	fi
	for _sf_deb in "$_sf_tmp"/*.deb; do
		dpkg -x "$_sf_deb" "$_sf_tmp/root" || {
			SM_WHY="dpkg -x $(basename "$_sf_deb") failed"
			rm -rf "$_sf_tmp"
			return 1
		}
	done
	rm -f "$_sf_tmp"/*.deb
	find "$_sf_tmp/root" -type f -perm /6000 -exec chmod ug-s {} +
	if [ ! -x "$_sf_tmp/root/usr/libexec/sendmail/sendmail" ]; then
		SM_WHY="the packages hold no usr/libexec/sendmail/sendmail"
		rm -rf "$_sf_tmp"
		return 1
	fi
	# Another run may have won the race: keep its copy.
	mv "$_sf_tmp" "$SM_CACHE" 2>/dev/null || rm -rf "$_sf_tmp"
	[ -x "$SM_BIN" ] || {
		SM_WHY="$SM_CACHE is not usable"
		return 1
	}
}

# mta_sendmail_init [LOCAL-DOMAIN...]: write a throwaway Sendmail
# configuration under $RG_TMP/sm, the Sendmail twin of mta_postfix_init:
# an open relay (FEATURE(promiscuous_relay)) so relayguard alone decides;
# mail for other domains leaves through the smart host [sink.test] (the
# sink, by the relay mailer); the local domains (default example.com) go
# to class w and the local mailer, which speaks LMTP to a second sink, so
# Sendmail's own local routing ({rcpt_mailer} local, {rcpt_addr} the bare
# user) is what the milter sees.  No aliases, no user lookups (local
# mailer flags w and A off).  If RG_PORT is set (start relayguard first),
# relayguard is Sendmail's milter with F=T.  Add .mc lines with
# mta_sendmail_set.
mta_sendmail_init() {
	SM_DOMAINS="${*:-example.com}"
	SM_DIR=$RG_TMP/sm
	SM_QUEUE=$SM_DIR/mqueue
	SM_LOG=$SM_DIR/maillog
	SM_TOKEN=rg-test-sm-$$
	mkdir -p "$SM_QUEUE" "$SM_DIR/olddev"
	chmod 700 "$SM_QUEUE"
	: >"$SM_DIR/extra.m4"
	: >"$SM_DIR/local-host-names"
	: >"$SM_DIR/relay-domains"
	: >"$SM_DIR/statistics"
	[ -n "$LMTP_PORT" ] || mta_lmtp_sink_start
	# mx.example.com: Sendmail's own name, fully qualified and resolvable;
	# sink.test: the smart host.  Clients from 127.0.0.2 and up have no name.
	{
		printf '127.0.0.1\tmx.example.com mx localhost sink.test\n'
		printf '::1\tlocalhost ip6-localhost ip6-loopback\n'
	} >"$SM_DIR/hosts"
	printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\nservices: files\nprotocols: files\n' \
		>"$SM_DIR/nsswitch.conf"
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$SM_DIR/resolv.conf"
	printf 'hosts\tfiles\naliases\tfiles\n' >"$SM_DIR/service.switch"
	SM_PORT=$(mta_free_port v6) || tap_bail "no free port"
	[ -z "$RG_PORT" ] || RG_PORT_PINNED=yes # Sendmail knows the port now
	mta_sendmail_cf
	mta_sendmail_start_script
}

# mta_sendmail_set "M4 LINE"...: add lines to the .mc (before the MAILER
# lines) and make the .cf again; takes effect at the next start.
mta_sendmail_set() {
	printf '%s\n' "$@" >>"$SM_DIR/extra.m4"
	mta_sendmail_cf
}

# The .mc, then the .cf from it (m4's warnings go to sendmail.out).
mta_sendmail_cf() {
	_sc_ipv6=
	[ "$MTA_IPV6" = yes ] &&
		_sc_ipv6="DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=::1, Name=MTA6, Family=inet6')dnl"
	_sc_milter=
	[ -n "$RG_PORT" ] &&
		_sc_milter="INPUT_MAIL_FILTER(\`relayguard', \`S=inet:$RG_PORT@127.0.0.1, F=T, T=C:10s;S:10s;R:10s;E:30s')dnl"
	_sc_local=
	for _sc_d in $SM_DOMAINS; do
		_sc_local="${_sc_local}LOCAL_DOMAIN(\`$_sc_d')dnl
"
	done
	cat >"$SM_DIR/sendmail.mc" <<EOF
divert(-1)
# Throwaway Sendmail for relayguard's end-to-end tests (test/lib/mta.sh).
divert(0)dnl
include(\`$SM_CF/m4/cf.m4')dnl
VERSIONID(\`relayguard end-to-end test')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.example.com')dnl
dnl Identifies this instance's greeting (see mta_sendmail_start).
define(\`confSMTP_LOGIN_MSG', \`\$j $SM_TOKEN')dnl
define(\`QUEUE_DIR', \`$SM_QUEUE')dnl
define(\`STATUS_FILE', \`$SM_DIR/statistics')dnl
define(\`confPID_FILE', \`$SM_DIR/sendmail.pid')dnl
define(\`HELP_FILE', \`$SM_ROOT/etc/mail/helpfile')dnl
define(\`confCW_FILE', \`-o $SM_DIR/local-host-names')dnl
define(\`confCR_FILE', \`-o $SM_DIR/relay-domains')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM_DIR/service.switch')dnl
dnl No aliases: without F=A on the local mailer they are never consulted,
dnl and no AliasWait (a missing alias database would hold mail in the queue).
define(\`ALIAS_FILE', \`')dnl
define(\`confALIAS_WAIT', \`0')dnl
dnl The temp dir is under /tmp: trust its sticky bit.
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confDEF_USER_ID', \`$RG_USER')dnl
define(\`confLOG_LEVEL', \`14')dnl
define(\`confREFUSE_LA', \`1000')dnl
define(\`confQUEUE_LA', \`1000')dnl
define(\`confDELAY_LA', \`0')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confDELIVERY_MODE', \`background')dnl
dnl Everything leaves for the sinks: other domains by the smart host
dnl (a name, not [127.0.0.1], which Sendmail knows is itself and drops),
dnl local users by LMTP.
define(\`SMART_HOST', \`relay:[sink.test]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $SINK_PORT')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $SINK_PORT')dnl
define(\`SMTP_MAILER_ARGS', \`TCP \$h $SINK_PORT')dnl
define(\`SMTP8_MAILER_ARGS', \`TCP \$h $SINK_PORT')dnl
FEATURE(\`local_lmtp', \`[IPC]', \`TCP 127.0.0.1 $LMTP_PORT')dnl
MODIFY_MAILER_FLAGS(\`LOCAL', \`-wA')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`relay_hosts_only')dnl
FEATURE(\`accept_unresolvable_domains')dnl
dnl An open relay: relayguard alone decides.
FEATURE(\`promiscuous_relay')dnl
DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=127.0.0.1, Name=MTA')dnl
$_sc_ipv6
$_sc_local$_sc_milter
include(\`$SM_DIR/extra.m4')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
	m4 "$SM_DIR/sendmail.mc" >"$SM_DIR/sendmail.cf" 2>>"$RG_TMP/sendmail.out" ||
		tap_bail "m4 could not make sendmail.cf (see $RG_TMP/sendmail.out)"
}

# The script run inside the private namespace (see the top of this part).
mta_sendmail_start_script() {
	cat >"$SM_DIR/start.sh" <<EOF
set -e
mount --rbind /dev "$SM_DIR/olddev"
mount -t tmpfs -o mode=755 rgdev /dev
for n in null zero full random urandom tty; do
	[ -e "$SM_DIR/olddev/\$n" ] || continue
	touch "/dev/\$n"
	mount --bind "$SM_DIR/olddev/\$n" "/dev/\$n"
done
ln -s /proc/self/fd /dev/fd
ln -s "$SM_DIR/log.sock" /dev/log
mount --bind "$SM_DIR/hosts" /etc/hosts
mount --bind "$SM_DIR/nsswitch.conf" /etc/nsswitch.conf
[ ! -e /etc/resolv.conf ] || mount --bind "$SM_DIR/resolv.conf" /etc/resolv.conf
[ ! -d "$SM_DIR/sasl" ] || mount --bind "$SM_DIR/sasl" /usr/lib/sasl2
hostname mx.example.com
export LD_LIBRARY_PATH="$SM_LIBDIR"
exec "$SM_BIN" -C "$SM_DIR/sendmail.cf" "\$@"
EOF
	# The same for any other Sendmail command, e.g. for relayguard's
	# sendmail_path: "$SM_DIR/sendmail" -i -f SENDER -- RCPT...  -odi:
	# a submission delivers before it returns, leaving no child behind.
	cat >"$SM_DIR/sendmail" <<EOF
#!/bin/sh
exec unshare --uts --mount sh "$SM_DIR/start.sh" -odi "\$@"
EOF
	chmod 755 "$SM_DIR/sendmail"
}

# mta_sendmail_command ARG...: run this instance's sendmail with ARG...
# (-bp -qQ lists the quarantined messages, -qI... runs the queue) in a
# namespace like the daemon's; its output on stdout and stderr.
mta_sendmail_command() {
	"$SM_DIR/sendmail" "$@" </dev/null
}

# mta_sendmail_sasl USER@REALM PASSWORD: Cyrus SASL with a private sasldb
# (PLAIN and LOGIN), for swaks --auth; call before mta_sendmail_start.
# False if sasl2-bin is missing or there is no /usr/lib/sasl2 to show the
# private Sendmail.conf in.
mta_sendmail_sasl() {
	_sa_user=${1%@*} _sa_realm=${1#*@}
	command -v saslpasswd2 >/dev/null 2>&1 || return 1
	[ -d /usr/lib/sasl2 ] || return 1
	mkdir -p "$SM_DIR/sasl"
	cat >"$SM_DIR/sasl/Sendmail.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $SM_DIR/sasl/sasldb2
EOF
	printf '%s' "$2" | saslpasswd2 -p -c -f "$SM_DIR/sasl/sasldb2" -u "$_sa_realm" "$_sa_user" || return 1
	# Sendmail refuses a password file others can read (safesasl).
	chmod 600 "$SM_DIR/sasl/sasldb2" || return 1
	mta_sendmail_set "define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl" "TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl"
}

# mta_sendmail_start: start the instance in the foreground (-bD) as our
# child, in its own session (setsid) so that mta_sendmail_stop can wait for
# the children it forks; wait until it greets with its token.
mta_sendmail_start() {
	if ! mta_alive "$SM_SYSLOG_PID"; then
		mta_sendmail_syslog
		mta_wait_ready "$SM_SYSLOG_PID" 5 test -S "$SM_DIR/log.sock" ||
			tap_bail "cannot start the syslog receiver for Sendmail (see $RG_TMP/sendmail.out)"
	fi
	for _sm_try in 1 2 3 4 5; do
		setsid unshare --uts --mount sh "$SM_DIR/start.sh" -bD >>"$RG_TMP/sendmail.out" 2>&1 &
		SM_PID=$!
		mta_track "$SM_PID"
		if mta_wait_ready "$SM_PID" 15 mta_banner_has 127.0.0.1 "$SM_PORT" "$SM_TOKEN"; then
			MTA_KIND=sendmail
			MTA_PORT=$SM_PORT
			MTA_LOG=$SM_LOG
			return 0
		fi
		# Most likely the port was taken meanwhile: another one.
		mta_sendmail_stop
		SM_PORT=$(mta_free_port v6) || break
		mta_sendmail_cf
	done
	tap_bail "cannot start Sendmail (see $SM_LOG and $RG_TMP/sendmail.out)"
}

# A syslog receiver on SM_DIR/log.sock (the namespace's /dev/log): one line
# per message in SM_LOG, without the <priority>.
mta_sendmail_syslog() {
	perl -MIO::Socket::UNIX -MSocket -e '
		my ($path, $out) = @ARGV;
		unlink $path;
		my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $path) or die "$path: $!\n";
		chmod 0666, $path;  # Sendmail children that run as other users log too
		open(my $o, ">>", $out) or die "$out: $!\n";
		$o->autoflush(1);
		while (defined $s->recv(my $m, 8192)) {
			$m =~ s/^<\d+>//;
			$m =~ s/\0?\n?\z//;
			print $o "$m\n";
		}' "$SM_DIR/log.sock" "$SM_LOG" >>"$RG_TMP/sendmail.out" 2>&1 &
	SM_SYSLOG_PID=$!
	mta_track "$SM_SYSLOG_PID"
}

# mta_sendmail_stop: SIGTERM to the daemon; wait until none of its session
# (the SMTP and delivery children it forked) is left.
mta_sendmail_stop() {
	[ -n "$SM_PID" ] || return 0
	mta_kill_wait "$SM_PID" 10
	if ! mta_wait_until 10 mta_session_gone "$SM_PID"; then
		# Children that ignored SIGTERM (a delivery stuck on a sink that died).
		for _st_p in $(ps -o pid= -s "$SM_PID" 2>/dev/null); do
			kill -KILL "$_st_p" 2>/dev/null
		done
		mta_wait_until 2 mta_session_gone "$SM_PID"
	fi
	SM_PID=
}

# mta_sendmail_queue_empty: no message waits in the queue (quarantined ones
# included: Sendmail renames their qf to hf).
mta_sendmail_queue_empty() {
	[ -z "$(find "$SM_QUEUE" -type f \( -name 'qf*' -o -name 'hf*' -o -name 'df*' \
		-o -name 'Qf*' \) 2>/dev/null | head -n 1)" ]
}

# mta_sendmail_wait_delivered QID [SECONDS]: wait (10 s) until Sendmail is
# done with QID; true if it delivered and no delivery attempt failed
# (each attempt logs a dsn=; stat=quarantined before a release has none).
mta_sendmail_wait_delivered() {
	[ -n "$1" ] || return 1
	mta_wait_until "${2:-10}" mta_log_has "$SM_LOG" 0 " $1: done; " || return 1
	mta_log_has "$SM_LOG" 0 " $1: to=.*, dsn=2\.[0-9.]*, stat=Sent" &&
		! mta_log_has "$SM_LOG" 0 " $1: to=.*, dsn=[45]\."
}

# ---- relayguard --------------------------------------------------------------
# mta_dns_start ZONES...: the test DNS server (test/lib/dns.sh: unbound on
# a loopback port, DNS_PORT) serving the unbound.conf(5) fragments ZONES,
# in RG_TMP and stopped with everything else; and a copy of
# test/dns/libunbound.conf in RG_TMP that relayguard, running as RG_USER,
# can read again on reload (dns_config = $RG_TMP/libunbound.conf).  Skips
# the test when unbound is missing.
mta_dns_start() {
	command -v dns_start >/dev/null 2>&1 || . "${top_srcdir:-.}/test/lib/dns.sh"
	DNS_NO_TRAP=1 TMPDIR=$RG_TMP dns_start "$@"
	case $? in
	0) mta_track "$DNS_PID" ;;
	77) tap_skip_all "unbound is not installed (Debian: apt-get install unbound)" ;;
	*) tap_bail "the test DNS server did not start" ;;
	esac
	cp "${top_srcdir:-.}/test/dns/libunbound.conf" "$RG_TMP/libunbound.conf"
	chmod 644 "$RG_TMP/libunbound.conf"
}


# mta_write FILE: write stdin to FILE, readable by everyone (relayguard
# reads its config again as RG_USER on reload).
mta_write() {
	cat >"$1" && chmod 644 "$1"
}

# mta_rg_start CONFIG [OPTION...]: run relayguard in the foreground on
# inet:RG_PORT@127.0.0.1 as RG_USER, log in RG_LOG; wait for its "ready"
# line, which it logs after the socket listens.  Sets RG_PID (the master)
# and RG_WORKER.  False if it did not start.
mta_rg_start() {
	_rs_conf=$1
	shift
	RG_LOG=${RG_LOG:-$RG_TMP/relayguard.log}
	for _rs_try in 1 2 3 4 5; do
		[ -n "$RG_PORT" ] || RG_PORT=$(mta_free_port) || return 1
		_rs_mark=$(mta_log_mark "$RG_LOG")
		# RG_WRAPPER is a command line: split on blanks, on purpose.
		# shellcheck disable=SC2086
		$RG_WRAPPER "$RELAYGUARD" -f -c "$_rs_conf" -p "inet:$RG_PORT@127.0.0.1" -u "$RG_USER" "$@" \
			</dev/null >>"$RG_LOG" 2>&1 &
		RG_PID=$!
		mta_track "$RG_PID"
		if mta_wait_ready "$RG_PID" "$RG_START_SECONDS" mta_log_has "$RG_LOG" "$_rs_mark" \
			" ready on inet:$RG_PORT@127\\.0\\.0\\.1,"; then
			_rs_line=$(mta_log_grep "$RG_LOG" "$_rs_mark" " ready on inet:$RG_PORT@" | tail -n 1)
			RG_WORKER=$(printf '%s\n' "$_rs_line" | sed -n 's/.*relayguard\[\([0-9]*\)\]:.*/\1/p')
			RG_MARK=$_rs_mark
			return 0
		fi
		mta_kill_wait "$RG_PID" 10
		# Port taken meanwhile: try another, unless Postfix already points at it.
		mta_log_has "$RG_LOG" "$_rs_mark" "cannot open the milter socket" || return 1
		[ -z "$RG_PORT_PINNED" ] || return 1
		RG_PORT=
	done
	return 1
}

# mta_rg_reload: SIGHUP; wait for the answer.  0 = reloaded, 1 = the new
# config was refused (the old one still runs), 2 = no answer.  RG_MARK is
# the log position before the signal, for mta_log_* checks.
mta_rg_reload() {
	RG_MARK=$(mta_log_mark "$RG_LOG")
	kill -HUP "$RG_PID" || return 2
	mta_wait_log "$RG_LOG" "$RG_MARK" ': reloaded |: reload .*failed' 10 || return 2
	mta_log_has "$RG_LOG" "$RG_MARK" ': reloaded '
}

# mta_rg_stop [SECONDS]: SIGTERM to the master; wait (20 s) for it to exit
# and reap it.  Sets RG_STATUS (its exit status); false if it or its
# worker is still alive afterwards.
mta_rg_stop() {
	RG_MARK=$(mta_log_mark "$RG_LOG")
	kill -TERM "$RG_PID" 2>/dev/null
	mta_wait_until "${1:-20}" mta_dead "$RG_PID"
	if mta_alive "$RG_PID"; then
		RG_STATUS=
		return 1
	fi
	wait "$RG_PID"
	RG_STATUS=$?
	mta_untrack "$RG_PID"
	mta_wait_until 5 mta_dead "$RG_WORKER"
}

# mta_rg_log_clean: no sanitizer report in relayguard's log.
mta_rg_log_clean() {
	! grep -Eq 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:|SUMMARY: [A-Za-z]+Sanitizer' "$RG_LOG"
}

# ---- SMTP with swaks ------------------------------------------------------------

# mta_smtp SOURCE [SWAKS-OPTION...]: one SMTP dialogue with the MTA
# (127.0.0.1:MTA_PORT, or [::1] when SOURCE is an IPv6 address) from the
# loopback address SOURCE (127.0.0.2 .. 127.0.0.254 are distinct clients
# on Linux).  Defaults: --helo client.test --from sender@stranger.test; a
# header "X-RG-Token: SMTP_TOKEN" marks the message for mta_sink_*.  Later
# options override the defaults (--quit-after RCPT, --to a,b, --auth ...).
# Sets SMTP_OUT (transcript), SMTP_REPLIES (one "CMD reply" line per
# reply: BANNER EHLO AUTH MAIL RCPT DATA DOT QUIT) and SMTP_QID (the queue
# id after DATA, if any).  False if no greeting was received.
mta_smtp() {
	_sm_src=$1 _sm_server=127.0.0.1
	shift
	case $_sm_src in *:*) _sm_server=::1 ;; esac
	SMTP_N=$((SMTP_N + 1))
	SMTP_TOKEN=rg-$$-$SMTP_N
	SMTP_OUT=$RG_TMP/smtp/$SMTP_N.txt
	SMTP_REPLIES=$RG_TMP/smtp/$SMTP_N.replies
	swaks --server "$_sm_server" --port "$MTA_PORT" --local-interface "$_sm_src" --timeout 20 \
		--helo client.test --from sender@stranger.test \
		--add-header "X-RG-Token: $SMTP_TOKEN" "$@" >"$SMTP_OUT" 2>&1 </dev/null
	# swaks: " -> " what it sent, "<- " / "<** " replies (the last line of
	# a multi-line reply has a space after the code), message lines
	# between the 354 and the lone "." are sent lines too.
	awk '
	/^ -> / {
		line = substr($0, 5)
		if (indata) { if (line == ".") { cmd = "DOT"; indata = 0 } ; next }
		split(line, w, /[ :]/)
		cmd = toupper(w[1])
		next
	}
	/^(<-|<\*\*) / {
		r = substr($0, 5)
		if (r ~ /^[0-9][0-9][0-9]-/) next
		if (cmd == "") cmd = "BANNER"
		print cmd, r
		if (cmd == "DATA" && r ~ /^354/) indata = 1
		cmd = ""
	}' "$SMTP_OUT" >"$SMTP_REPLIES"
	# Postfix: "250 2.0.0 Ok: queued as QID"; Sendmail: "250 2.0.0 QID Message accepted ...".
	SMTP_QID=$(sed -n -e 's/^DOT 250 .*queued as \([0-9A-Za-z]*\).*/\1/p' \
		-e 's/^DOT 250 [0-9.]* \([0-9A-Za-z]*\) Message accepted .*/\1/p' "$SMTP_REPLIES")
	grep -q '^BANNER ' "$SMTP_REPLIES"
}

# smtp_reply CMD [N]: the reply to the Nth (1st) CMD of the last dialogue.
smtp_reply() {
	awk -v c="$1" -v n="${2:-1}" '$1 == c && ++k == n { sub(/^[^ ]+ /, ""); print; exit }' \
		"$SMTP_REPLIES"
}

# smtp_code CMD [N]: its three-digit code.
smtp_code() {
	smtp_reply "$@" | cut -c1-3
}

# mta_wait_delivered [SECONDS]: wait until the MTA has delivered the last
# dialogue's message to every recipient and the sink holds it.
mta_wait_delivered() {
	[ -n "$SMTP_QID" ] || return 1
	case $MTA_KIND in
	postfix) mta_postfix_wait_delivered "$SMTP_QID" "${1:-10}" || return 1 ;;
	sendmail) mta_sendmail_wait_delivered "$SMTP_QID" "${1:-10}" || return 1 ;;
	*) return 1 ;;
	esac
	mta_wait_until 3 mta_sink_has "$SMTP_TOKEN"
}
