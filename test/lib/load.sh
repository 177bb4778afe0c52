# load.sh - traffic for the long end-to-end tests (test/e2e/kill.sh,
# test/soak/soak.sh).  Source it after test/lib/mta.sh; POSIX sh.
#
# Unlike mta_smtp, every function here can run in several background
# subshells at once: nothing is kept in shell variables, each message is
# named by a token the caller chooses (unique per run), and each result is
# one line the caller appends to a file of its own.
#
#   load_send DIR SOURCE TOKEN [SWAKS-OPTION...]
#       one SMTP dialogue with the MTA (like mta_smtp: from the loopback
#       address SOURCE, header "X-RG-Token: TOKEN"); swaks' transcript goes
#       to DIR/TOKEN.txt; prints the result line (load_classify).  The
#       Subject is the token too, so that repeated sends are not taken
#       for a mail loop (loop_max).
#   load_classify TOKEN TRANSCRIPT
#       "TOKEN STATUS CODE QID RCPTS XCODE": STATUS is
#         accepted   the message was queued (250 after the final dot)
#         tempfail   not queued, and the reply that ended it was a 4xx
#         reject     not queued, and the reply that ended it was a 5xx
#         noconn     no greeting
#         unknown    the message was sent but no reply to the dot came:
#                    the client cannot know whether it was queued
#       CODE is the deciding reply's code ("-" if none), QID Postfix's
#       queue id ("-" if none), RCPTS the recipients and their RCPT reply
#       codes, "addr=code,addr=code" ("-" if none was sent), XCODE the
#       deciding reply's enhanced status code (RFC 3463; "-" if none).
#   load_held SOURCE GOFILE OUT TOKEN RCPT
#       a session that stops in the middle: EHLO, MAIL, RCPT, then waits
#       until GOFILE exists before DATA, the message and the dot; every
#       reply is appended to OUT ("CMD reply"), then "END".  Run it in the
#       background.
#   load_sink_tokens
#       the token of every message in the sink, one line each (a token
#       delivered twice appears twice).
#   load_turf_tokens DIR
#       the same for the turf directory DIR (its new/ copies).

# load_send DIR SOURCE TOKEN [SWAKS-OPTION...]
load_send() {
	_ld_dir=$1 _ld_src=$2 _ld_tok=$3 _ld_server=127.0.0.1
	shift 3
	case $_ld_src in *:*) _ld_server=::1 ;; esac
	swaks --server "$_ld_server" --port "$MTA_PORT" --local-interface "$_ld_src" \
		--timeout 60 --helo client.test --from sender@stranger.test \
		--add-header "X-RG-Token: $_ld_tok" --header "Subject: $_ld_tok" "$@" \
		>"$_ld_dir/$_ld_tok.txt" 2>&1 </dev/null
	load_classify "$_ld_tok" "$_ld_dir/$_ld_tok.txt"
}

# load_classify TOKEN TRANSCRIPT: see the top.  swaks marks what it sent
# with " -> ", replies with "<-  " and error replies with "<** "; the last
# line of a multi-line reply has a space after the code; message lines sit
# between the 354 and the lone dot.
load_classify() {
	awk -v tok="$1" '
	function finish(st, code) {
		printf "%s %s %s %s %s %s\n", tok, st, code, (qid == "" ? "-" : qid), (rcpts == "" ? "-" : rcpts), x
		done = 1
		exit
	}
	/^ -> / {
		line = substr($0, 5)
		sub(/\r$/, "", line)
		if (indata) { if (line == ".") { cmd = "DOT"; indata = 0 } ; next }
		split(line, w, /[ :]/)
		cmd = toupper(w[1])
		if (cmd == "RCPT") { addr = line; sub(/^[^<]*</, "", addr); sub(/>.*$/, "", addr) }
		next
	}
	/^(<-|<\*\*) / {
		r = substr($0, 5)
		sub(/^ +/, "", r)
		if (r ~ /^[0-9][0-9][0-9]-/) next
		code = substr(r, 1, 3)
		x = "-"
		if (match(r, /^[0-9][0-9][0-9] [245]\.[0-9]+\.[0-9]+/)) x = substr(r, 5, RLENGTH - 4)
		if (cmd == "") { cmd = "BANNER"; banner = 1 }
		if (cmd == "RCPT") rcpts = rcpts (rcpts == "" ? "" : ",") addr "=" code
		if (cmd == "DATA" && code == "354") indata = 1
		if (cmd == "DOT") {
			sawdot = 1
			if (code == "250") {
				if (match(r, /queued as [0-9A-Za-z]+/)) qid = substr(r, RSTART + 10, RLENGTH - 10)
				finish("accepted", code)
			}
		}
		if (code ~ /^[45]/ && cmd != "RCPT" && cmd != "QUIT") { last = code; lastx = x }
		if (code ~ /^[45]/ && cmd == "RCPT") { lastrcpt = code; lastrcptx = x }
		if (code ~ /^4/ && cmd == "RCPT" && temprcpt == "") { temprcpt = code; temprcptx = x }
		if (cmd == "DATA" && code == "354") sentdata = 1
		cmd = ""
		next
	}
	END {
		if (done) exit
		if (!banner) { print tok, "noconn", "-", "-", (rcpts == "" ? "-" : rcpts), "-"; exit }
		if (sentdata && !sawdot) { print tok, "unknown", "-", "-", (rcpts == "" ? "-" : rcpts), "-"; exit }
		c = last != "" ? last : lastrcpt
		cx = last != "" ? lastx : lastrcptx
		# All recipients refused: tempfail if any of them was a 4xx (the
		# client keeps the message for them), else reject.
		if (last == "" && temprcpt != "") { c = temprcpt; cx = temprcptx }
		st = (c ~ /^4/) ? "tempfail" : (c ~ /^5/) ? "reject" : "unknown"
		print tok, st, (c == "" ? "-" : c), "-", (rcpts == "" ? "-" : rcpts), (cx == "" ? "-" : cx)
	}' "$2"
}

# load_held SOURCE GOFILE OUT TOKEN RCPT: see the top.
load_held() {
	perl -MIO::Socket::IP -e '
		my ($port, $src, $go, $out, $tok, $rcpt) = @ARGV;
		open(my $o, ">>", $out) or die "$out: $!\n";
		$o->autoflush(1);
		my $server = $src =~ /:/ ? "::1" : "127.0.0.1";
		my $s = IO::Socket::IP->new(PeerHost => $server, PeerPort => $port,
		    LocalHost => $src, Timeout => 10) or do { print $o "CONNECT failed\nEND\n"; exit 1 };
		sub reply {
			my ($cmd) = @_;
			my $r;
			while (defined(my $l = <$s>)) {
				$l =~ s/\r?\n\z//;
				$r = $l;
				last if $l !~ /^\d\d\d-/;
			}
			$r = "EOF" unless defined $r;
			print $o "$cmd $r\n";
			return $r;
		}
		sub say { print $s "$_[0]\r\n"; reply($_[1]) }
		reply("BANNER") =~ /^2/ or do { print $o "END\n"; exit 0 };
		say("EHLO client.test", "EHLO") =~ /^2/ or do { print $o "END\n"; exit 0 };
		say("MAIL FROM:<held\@stranger.test>", "MAIL") =~ /^2/ or do { print $o "END\n"; exit 0 };
		say("RCPT TO:<$rcpt>", "RCPT");
		select(undef, undef, undef, 0.05) until -e $go;
		if (say("DATA", "DATA") =~ /^3/) {
			print $s "X-RG-Token: $tok\r\nSubject: held $tok\r\n\r\nheld session\r\n";
			say(".", "DOT");
		}
		say("QUIT", "QUIT");
		print $o "END\n";' "$MTA_PORT" "$1" "$2" "$3" "$4" "$5" 2>>"$3"
}

# load_sink_tokens: see the top.
load_sink_tokens() {
	find "$SINK_DIR" -type f -exec grep -h '^X-RG-Token: ' {} + 2>/dev/null |
		sed 's/^X-RG-Token: //; s/\r$//'
}

# load_turf_tokens DIR: see the top.
load_turf_tokens() {
	find "$1/new" -type f -exec grep -h '^X-RG-Token: ' {} + 2>/dev/null |
		sed 's/^X-RG-Token: //; s/\r$//'
}
