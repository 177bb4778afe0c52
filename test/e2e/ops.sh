#!/bin/sh
# ops.sh - what an administrator runs relayguard with, behind a real
# Postfix (TAP): the Prometheus endpoint scraped with a real HTTP client,
# statistics on SIGUSR1, reload when a file changes on disk, the pid-file
# lock, refusal of a policy file others can write, and the unix socket:
# its mode and group, a stale socket replaced, a socket in use refused.
. "${top_srcdir:-.}/test/lib/mta.sh"

mta_require_postfix
command -v curl >/dev/null 2>&1 || tap_skip_all "curl not installed (apt-get install curl)"
mta_init

mport=$(mta_free_port) || tap_bail "no free port"
conf=$RG_TMP/relayguard.conf
pidfile=$RG_TMP/relayguard.pid
write_conf() { # extra local domains
	mta_write "$conf" <<EOF
# relayguard.conf of test/e2e/ops.sh
local_domains = example.com $1
trusted_networks = 127.0.0.1/32 ::1/128
metrics_listen = 127.0.0.1:$mport
reload_on_change = yes
rdns = off
spf = off
EOF
}
write_conf ""
mta_sink_start
mta_rg_start "$conf" -P "$pidfile" || tap_bail "relayguard did not start (see $RG_LOG)"
mta_postfix_init example.com
mta_postfix_start

# ---- metrics ------------------------------------------------------------

mta_smtp 127.0.0.2 --to victim@else.test --quit-after RCPT
tap_like "$(smtp_reply RCPT)" '^550 5\.7\.1 ' "a relay attempt is refused"
metrics=$RG_TMP/metrics
code=$(curl -s -o "$metrics" -w '%{http_code} %{content_type}' "http://127.0.0.1:$mport/metrics")
tap_is "$code" "200 text/plain; version=0.0.4" "GET /metrics: 200, Prometheus text format 0.0.4"
tap_check "the relay refusal is counted by its decider" grep -q '^relayguard_decider_total{by="relay",action="reject"} 1$' "$metrics"
tap_check "decisions are counted by stage and action" grep -Eq '^relayguard_decisions_total\{stage="rcpt",action="reject"\} [1-9]' "$metrics"
tap_check "DNS latency is a histogram" grep -q '^# TYPE relayguard_dns_lookup_seconds histogram$' "$metrics"
tap_check "the running generation is 1" grep -q '^relayguard_config_generation 1$' "$metrics"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/other")
tap_is "$code" 404 "anything else: 404"

# ---- SIGUSR1 ------------------------------------------------------------

mark=$(mta_log_mark "$RG_LOG")
kill -USR1 "$RG_PID"
mta_wait_log "$RG_LOG" "$mark" "stats: sessions=" 5
tap_check "SIGUSR1 logs the count by decider" mta_log_has "$RG_LOG" "$mark" "stats: by relay: reject=1"
tap_check "SIGUSR1 logs decisions by stage and action" mta_log_has "$RG_LOG" "$mark" "stats: decisions rcpt: .*reject=1"

# ---- reload when a file changes on disk -----------------------------------

mta_smtp 127.0.0.2 --to bob@new.example --quit-after RCPT
tap_like "$(smtp_reply RCPT)" '^550 5\.7\.1 ' "new.example is not ours yet"
mark=$(mta_log_mark "$RG_LOG")
write_conf new.example
if mta_wait_log "$RG_LOG" "$mark" "changed on disk\\): generation 2 replaces 1; changed: local_domains" 8; then
	tap_ok "an edited file is noticed and reloaded, the log says which key changed"
else
	tap_fail "an edited file is noticed and reloaded, the log says which key changed"
fi
mta_smtp 127.0.0.2 --to bob@new.example --quit-after RCPT
tap_like "$(smtp_reply RCPT)" '^250' "new.example is accepted after the reload"
curl -s -o "$metrics" "http://127.0.0.1:$mport/metrics"
tap_check "the reload is counted" grep -q '^relayguard_reloads_total{result="ok"} 2$' "$metrics"

# ---- the pid-file lock ----------------------------------------------------

other=$(mta_free_port)
"$RELAYGUARD" -f -c "$conf" -p "inet:$other@127.0.0.1" -u "$RG_USER" -P "$pidfile" \
	>"$RG_TMP/second.log" 2>&1
status=$?
tap_is "$status" 71 "a second relayguard on the same pid file refuses to start (exit 71)"
tap_check "and says who holds it" grep -q "pid file $pidfile is locked: relayguard is already running (pid $RG_PID)"  "$RG_TMP/second.log"

# ---- a policy file others can write ---------------------------------------

cp "$conf" "$RG_TMP/open.conf"
chmod 666 "$RG_TMP/open.conf"
"$RELAYGUARD" -n -c "$RG_TMP/open.conf" >"$RG_TMP/open.out" 2>&1
status=$?
tap_is "$status" 1 "relayguard -n refuses a world-writable configuration"
tap_check "naming the file and the fix" grep -q "open.conf: is writable by group or others (chmod go-w); refusing it"  "$RG_TMP/open.out"

# ---- the unix socket ------------------------------------------------------

sock=$RG_TMP/rg.sock
uconf=$RG_TMP/unix.conf
ugroup=$(id -gn "$RG_USER")
mta_write "$uconf" <<EOF
local_domains = example.com
rdns = off
spf = off
socket = unix:$sock
socket_mode = 0660
socket_group = $ugroup
EOF
chmod 755 "$RG_TMP"
"$RELAYGUARD" -f -c "$uconf" -u "$RG_USER" -P "$RG_TMP/unix.pid" >"$RG_TMP/unix.log" 2>&1 &
upid=$!
mta_track "$upid"
mta_wait_until 15 grep -q " ready on unix:$sock" "$RG_TMP/unix.log"
tap_is "$(stat -c '%a %U %G' "$sock" 2>/dev/null)" "660 $RG_USER $ugroup" \
	"the unix socket has socket_mode and socket_group"
"$RELAYGUARD" -f -c "$uconf" -u "$RG_USER" -P "$RG_TMP/unix2.pid" >"$RG_TMP/unix2.log" 2>&1
tap_is "$?" 71 "a second daemon on a socket in use refuses to start"
tap_check "and says why" grep -q "socket is in use by another process" "$RG_TMP/unix2.log"
# A crash leaves the socket file behind; the next start replaces it.
uworker=$(pgrep -P "$upid" 2>/dev/null | head -n 1)
kill -KILL "$upid" ${uworker:+"$uworker"} 2>/dev/null
mta_wait_until 10 mta_dead "$upid"
tap_check "a killed daemon leaves its socket behind" test -S "$sock"
"$RELAYGUARD" -f -c "$uconf" -u "$RG_USER" -P "$RG_TMP/unix.pid" >"$RG_TMP/unix3.log" 2>&1 &
upid=$!
mta_track "$upid"
if mta_wait_until 15 grep -q " ready on unix:$sock" "$RG_TMP/unix3.log"; then
	tap_ok "a stale socket is replaced at the next start"
else
	tap_fail "a stale socket is replaced at the next start"
	tap_diag "$(cat "$RG_TMP/unix3.log")"
fi
kill -TERM "$upid"
mta_wait_until 10 mta_dead "$upid"

tap_done
