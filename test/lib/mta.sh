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
#   mta_postfix_start
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
#   MTA_KIND MTA_PORT MTA_LOG    the MTA that mta_smtp talks to
#   RG_PORT RG_PID RG_WORKER RG_LOG RG_MARK   mta_rg_start / mta_rg_reload
#   SMTP_TOKEN SMTP_QID SMTP_OUT SMTP_REPLIES  mta_smtp
#   RG_STATUS                    mta_rg_stop     relayguard's exit status
#
# Environment: RELAYGUARD (the program; default $top_builddir/milter/
# relayguard), RG_USER (relayguard's -u, default nobody), RG_KEEP_TMP=yes
# keeps the temp dir for a post-mortem.

PATH=$PATH:/usr/sbin:/sbin
export PATH

RELAYGUARD=${RELAYGUARD:-${top_builddir:-.}/milter/relayguard}
RG_USER=${RG_USER:-nobody}

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

# Skip the whole test: TAP's form of exit 77.
tap_skip_all() {
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
	PF_MASTER=$(postconf -h daemon_directory 2>/dev/null)/master
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
	for _dl_f in "$RG_LOG" "$PF_LOG" "$RG_TMP/sink.log" "$RG_TMP/postfix.out"; do
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
	for _ss_try in 1 2 3 4 5; do
		SINK_PORT=$(mta_free_port) || break
		_ss_name=sink-$$-$_ss_try.test # in the greeting: proves the port is ours
		smtp-sink -u "$RG_USER" -h "$_ss_name" -d "$SINK_DIR/%Y%m%d%H%M%S." \
			"127.0.0.1:$SINK_PORT" 64 >>"$RG_TMP/sink.log" 2>&1 &
		SINK_PID=$!
		mta_track "$SINK_PID"
		mta_wait_ready "$SINK_PID" 5 mta_banner_has 127.0.0.1 "$SINK_PORT" "$_ss_name" && return 0
		mta_kill_wait "$SINK_PID"
	done
	tap_bail "cannot start smtp-sink (see $RG_TMP/sink.log)"
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

# ---- relayguard --------------------------------------------------------------

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
		"$RELAYGUARD" -f -c "$_rs_conf" -p "inet:$RG_PORT@127.0.0.1" -u "$RG_USER" "$@" \
			</dev/null >>"$RG_LOG" 2>&1 &
		RG_PID=$!
		mta_track "$RG_PID"
		if mta_wait_ready "$RG_PID" 15 mta_log_has "$RG_LOG" "$_rs_mark" \
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
	SMTP_QID=$(sed -n 's/^DOT 250 .*queued as \([0-9A-Za-z]*\).*/\1/p' "$SMTP_REPLIES")
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
	*) return 1 ;;
	esac
	mta_wait_until 3 mta_sink_has "$SMTP_TOKEN"
}
