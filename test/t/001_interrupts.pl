# Query cancel and statement_timeout interrupt a slow transfer and a
# retry wait promptly (57014, within 500 ms), and the session goes on.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use QstashTest;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('interrupts');
$node->init;
$node->start;
my $mock = QstashTest::start_mock();
QstashTest::setup_node($node, $mock);

# Run "SET ...; <slow query>; SELECT count(*) FROM qstash_users()" in one
# session.  With $cancel, cancel the slow query once the mock has seen it
# (after $settle seconds more).  Returns the seconds from the cancel (or
# from the start, for a timeout) until the session had the error, and the
# session's output.
sub run_interrupted
{
	my (%a) = @_;
	QstashTest::ctl($mock, 'reset');
	QstashTest::ctl($mock, 'queue', @{ $a{queue} });
	my ($out, $err) = ('', '');
	my $t0 = time();
	my @cmd = ('psql', '-X', '-A', '-t', '-d', $node->connstr('postgres') . ' application_name=tap_slow');
	push @cmd, '-c', $_ for @{ $a{sql} };
	my $h = IPC::Run::start(\@cmd, '>', \$out, '2>', \$err);
	my $t_int;
	if ($a{cancel})
	{
		for (1 .. 200)
		{
			last if QstashTest::requests($mock) >= ($a{min_requests} // 1);
			usleep(20_000);
		}
		usleep($a{settle} * 1_000_000);
		$t_int = time();
		$node->safe_psql('postgres',
			"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'tap_slow'");
	}
	else
	{
		$t_int = $t0;
	}
	# the error arrives on stderr; the session goes on with the last command
	my $t_err;
	for (1 .. 1000)
	{
		$h->pump_nb;
		if ($err =~ /ERROR/ && !defined $t_err) { $t_err = time(); }
		last if !$h->pumpable;
		usleep(5_000);
	}
	$h->finish;
	$t_err //= time();
	return ($t_err - $t_int, $out, $err);
}

my $body = '[{"id": "99a4c327-31f0-490f-a594-043ade84085a", "region": "eu-central-1"}]';

# 1. cancel during a slow body (headers sent, body trickles for 5 s)
my ($secs, $out, $err) = run_interrupted(
	queue => [ '--body', $body, '--body-delay-ms', '5000' ],
	sql => [ 'SELECT * FROM qstash_users()', 'SELECT count(*) FROM qstash_users()' ],
	cancel => 1, settle => 0.2);
like($err, qr/ERROR:  canceling statement due to user request/, 'cancel during a slow body: 57014');
cmp_ok($secs, '<', 0.5, sprintf('cancel during a slow body answered in %.3f s', $secs));
is($out, "2\n", 'the same session then runs a normal query');

# 2. statement_timeout during a slow body
($secs, $out, $err) = run_interrupted(
	queue => [ '--body', $body, '--body-delay-ms', '5000' ],
	sql => [ 'SET statement_timeout = 300', 'SELECT * FROM qstash_users()',
		'RESET statement_timeout', 'SELECT count(*) FROM qstash_users()' ]);
like($err, qr/ERROR:  canceling statement due to statement timeout/, 'statement_timeout during a slow body: 57014');
cmp_ok($secs, '<', 0.3 + 0.5, sprintf('statement_timeout (300 ms) during a slow body answered after %.3f s', $secs));
like($out, qr/\n2\n$/, 'the same session then runs a normal query');

# 3. cancel during the wait for a burst rate limit to reset (1.9 s)
($secs, $out, $err) = run_interrupted(
	queue => [ '--status', '429', '--reset-in-ms', '1900' ],
	sql => [ 'SELECT * FROM qstash_users()', 'SELECT count(*) FROM qstash_users()' ],
	cancel => 1, settle => 0.3);
like($err, qr/ERROR:  canceling statement due to user request/, 'cancel during a rate-limit wait: 57014');
cmp_ok($secs, '<', 0.5, sprintf('cancel during a rate-limit wait answered in %.3f s', $secs));
is($out, "2\n", 'the same session then runs a normal query');

# 4. statement_timeout during 5xx backoff (up to 10 retries, long waits)
($secs, $out, $err) = run_interrupted(
	queue => [ '--status', '503', '--body', '{"error":"busy"}', '--times', '11' ],
	sql => [ 'SET qstash.max_retries = 10', 'SET statement_timeout = 400',
		'SELECT * FROM qstash_users()', 'RESET statement_timeout',
		'SET qstash.max_retries = 0', 'SELECT count(*) FROM qstash_users()' ]);
like($err, qr/ERROR:  canceling statement due to statement timeout/, 'statement_timeout during 5xx backoff: 57014');
cmp_ok($secs, '<', 0.4 + 0.5, sprintf('statement_timeout (400 ms) during 5xx backoff answered after %.3f s', $secs));

# 5. cancel while waiting for the response headers
($secs, $out, $err) = run_interrupted(
	queue => [ '--body', $body, '--delay-ms', '5000' ],
	sql => [ 'SELECT * FROM qstash_users()', 'SELECT count(*) FROM qstash_users()' ],
	cancel => 1, settle => 0.2);
like($err, qr/ERROR:  canceling statement due to user request/, 'cancel while waiting for headers: 57014');
cmp_ok($secs, '<', 0.5, sprintf('cancel while waiting for headers answered in %.3f s', $secs));
is($out, "2\n", 'the same session then runs a normal query');

# 6. cancel on page 3 of a paged listing (QStash REST API, Bearer token)
$node->safe_psql('postgres', qq{
	ALTER SERVER upstash OPTIONS (ADD qstash_url '$mock->{url}');
	ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token '$mock->{token}');
});
($secs, $out, $err) = run_interrupted(
	queue => [ '--path', '/v2/events', '--after', '2', '--delay-ms', '5000',
		'--body', '{"events":[]}' ],
	sql => [ 'SELECT count(*) FROM qstash_logs()', 'SELECT count(*) FROM qstash_logs()' ],
	cancel => 1, settle => 0.2, min_requests => 3);
like($err, qr/ERROR:  canceling statement due to user request/, 'cancel on page 3 of a listing: 57014');
cmp_ok($secs, '<', 0.5, sprintf('cancel on page 3 of a listing answered in %.3f s', $secs));
is($out, "250\n", 'no partial listing; the same session then reads all 250 entries');

# the server log holds no crash
$node->stop;
my $log = slurp_file($node->logfile);
unlike($log, qr/server process .* was terminated|TRAP:|PANIC/, 'no backend crashed');

QstashTest::stop_mock($mock);
done_testing();
