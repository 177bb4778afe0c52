#!/usr/bin/perl
# wiretap.pl FILTER-PORT LOG PORTFILE - a recording proxy for the
# miltertest scripts.
#
# miltertest keeps only the command byte of the filter's reply to RCPT,
# DATA and the other stages before end of message, so a script cannot see
# the text of an SMFIR_REPLYCODE there.  This proxy sits between
# miltertest and the filter: it listens on a free loopback port (written to
# PORTFILE once it listens), accepts one connection, connects it to
# 127.0.0.1:FILTER-PORT, copies bytes both ways unchanged, and writes every
# packet the filter sends to LOG as one line, "CMD DATA", before passing
# the packet on, so the line is there when miltertest has the reply.  In
# DATA, bytes outside printable ASCII and the backslash are written \xNN
# (the NUL ending a reply text is \x00).  It exits when either side closes,
# and after 120 s in any case.
use strict;
use warnings;
use IO::Handle;
use IO::Select;
use IO::Socket::INET;

my ($port, $log, $portfile) = @ARGV;
die "usage: wiretap.pl FILTER-PORT LOG PORTFILE\n" unless defined $portfile;
alarm 120;

my $listen = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0,
    Proto => 'tcp', ReuseAddr => 1) or die "wiretap: listen: $!\n";
open(my $lf, '>', $log) or die "wiretap: $log: $!\n";
$lf->autoflush(1);
open(my $pf, '>', "$portfile.tmp") or die "wiretap: $portfile: $!\n";
print $pf $listen->sockport, "\n";
close $pf;
rename "$portfile.tmp", $portfile or die "wiretap: rename: $!\n";

my $mta = $listen->accept or die "wiretap: accept: $!\n";
my $filter;
for (1 .. 40) {
	$filter = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
	    Proto => 'tcp') and last;
	select(undef, undef, undef, 0.25);
}
die "wiretap: cannot reach the filter on port $port\n" unless $filter;

sub shown {
	my ($s) = @_;
	$s =~ s/([^\x20-\x5b\x5d-\x7e])/sprintf('\\x%02x', ord $1)/ge;
	return $s;
}

my $sel = IO::Select->new($mta, $filter);
my $pending = '';
for (;;) {
	for my $fh ($sel->can_read) {
		my $n = sysread($fh, my $buf, 65536);
		exit 0 unless $n;
		if ($fh == $mta) {
			syswrite($filter, $buf) == length($buf) or exit 1;
			next;
		}
		$pending .= $buf;
		while (length($pending) >= 5) {
			my $len = unpack('N', $pending);
			last if length($pending) < 4 + $len;
			print $lf substr($pending, 4, 1), ' ', shown(substr($pending, 5, $len - 1)), "\n";
			$pending = substr($pending, 4 + $len);
		}
		syswrite($mta, $buf) == length($buf) or exit 1;
	}
}
