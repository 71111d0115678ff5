# Many sessions, one budget: with shared_preload_libraries = 'qstash' the
# backends share responses and rate-limit state; without it each works
# alone, as before.  pgbench drives 8 concurrent sessions against the mock.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use File::Temp qw(tempdir);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use QstashTest;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep time);

my $dir = tempdir(CLEANUP => 1);
my $mock = QstashTest::start_mock();

sub make_node
{
	my ($name, $preload) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', "max_connections = 40\n"
		  . ($preload ? "shared_preload_libraries = 'qstash'\n" : ''));
	$node->start;
	QstashTest::setup_node($node, $mock);
	$node->safe_psql('postgres', qq{
		ALTER SERVER upstash OPTIONS (ADD qstash_url '$mock->{url}');
		ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token '$mock->{token}');
	});
	return $node;
}

# pgbench: $clients sessions, each running $sql $tx times (or for -T secs)
sub pgbench
{
	my ($node, $clients, $run, $sql, $options) = @_;
	my $file = "$dir/script.sql";
	open(my $fh, '>', $file) or die;
	print $fh "$sql\n";
	close($fh);
	my ($out, $err) = ('', '');
	local $ENV{PGOPTIONS} = $options;
	my $ok = IPC::Run::run([ 'pgbench', '-n', '-c', $clients, '-j', $clients, @$run,
			'-f', $file, '-h', $node->host, '-p', $node->port, 'postgres' ],
		'>', \$out, '2>', \$err);
	note("pgbench: $err") unless $ok;
	my ($tps) = $out =~ /tps = ([0-9.]+)/;
	my ($done) = $out =~ /number of transactions actually processed: (\d+)/;
	return ($ok, $tps // 0, $done // 0);
}

# one session, one statement: (stdout, stderr)
sub session
{
	my ($node, $sql, $options) = @_;
	my ($out, $err) = ('', '');
	local $ENV{PGOPTIONS} = $options // '';
	IPC::Run::run([ 'psql', '-XAtq', '-h', $node->host, '-p', $node->port, '-d', 'postgres',
			'-c', $sql ], '>', \$out, '2>', \$err);
	return ($out, $err);
}

# The first request the mock received (under $prefix) beyond what $limit
# requests in any $window seconds allow since $t0: when the mock had
# received n, at most $limit for each window begun since $t0 may have been
# sent.  Returns ('', the closest it came) when none is, else ("request n
# at +s s, k allowed", '').
sub burst_overrun
{
	my ($mock, $prefix, $limit, $window, $t0) = @_;
	my ($n, $closest, $slack) = (0, 'no request', undef);
	for my $r (@{ QstashTest::request_log($mock, $prefix) })
	{
		$n++;
		my $allowed = $limit * (1 + int(($r->{t} - $t0) / $window));
		my $at = sprintf('request %d at +%.3f s, %d allowed', $n, $r->{t} - $t0, $allowed);
		return ($at, '') if $n > $allowed;
		($closest, $slack) = ($at, $allowed - $n) if !defined $slack || $allowed - $n < $slack;
	}
	return ('', $closest);
}

my $daily = [ '--status', '429', '--header', 'RateLimit-Limit: 1000',
	'--header', 'RateLimit-Remaining: 0', '--reset-header', 'RateLimit-Reset',
	'--reset-in-ms', '3000' ];

my %figures;
for my $preload (1, 0)
{
	my $what = $preload ? 'preloaded' : 'not preloaded';
	my $node = make_node($preload ? 'shared' : 'plain', $preload);

	# 1. 8 sessions x 25 calls with cache_ttl = 60
	QstashTest::ctl($mock, 'reset');
	my ($ok, $tps, $done) = pgbench($node, 8, [ '-t', '25' ],
		'SELECT count(*) FROM qstash_users();', '-c qstash.cache_ttl=60');
	ok($ok && $done == 200, "$what: 8 sessions made 200 calls");
	my $requests = QstashTest::requests($mock);
	is($requests, $preload ? 1 : 8,
		"$what: they made " . ($preload ? '1 request in total' : '1 request each'));
	$figures{$what}{cached} = [ $tps, $requests ];

	# 2. a daily 429: the other sessions fail at once, sending nothing
	QstashTest::ctl($mock, 'reset');
	QstashTest::ctl($mock, 'queue', '--path', '/v2/qstash/users', @$daily);
	my (undef, $err) = session($node, 'SELECT count(*) FROM qstash_users()');
	like($err, qr/daily rate limit of the Upstash API exceeded/, "$what: the first session gets the 429");
	my $failed = 0;
	for (1 .. 7)
	{
		my ($out, $e) = session($node, 'SELECT count(*) FROM qstash_users()');
		$failed++ if $e =~ /ERROR:  daily rate limit of the Upstash API exceeded on server "upstash"\nDETAIL:  Limit 1000, remaining 0, reset at /;
	}
	if ($preload)
	{
		is($failed, 7, 'preloaded: the 7 other sessions fail with the same QS002 error');
		is(QstashTest::requests($mock), 1, 'preloaded: and send no request');
		my ($q) = session($node, 'SELECT count(*) > 0 FROM qstash_queues()');
		is($q, "t\n", 'preloaded: the other API (QStash, its own limits) is not refused');
		is(QstashTest::requests($mock), 2, 'preloaded: and is sent');
		my (undef, $e) = session($node, 'SELECT count(*) FROM qstash_users()',
			'-c qstash.shared_fail_fast=off');
		is(QstashTest::requests($mock), 3, 'preloaded: qstash.shared_fail_fast = off sends');
		usleep(3_300_000);
		my ($out) = session($node, 'SELECT count(*) FROM qstash_users()');
		is($out, "2\n", 'preloaded: after the reset, a session fetches again');
		is(QstashTest::requests($mock), 4, 'preloaded: with one more request');

		# 2b. no lock-out: a daily 429 whose reset is an hour away, then a
		# success (HTTP 200 without rate-limit headers, as after a plan
		# upgrade) sent with shared_fail_fast = off: the next sessions send
		# again and succeed
		my $daily_hour = [ @$daily ];
		$daily_hour->[-1] = '3600000';
		QstashTest::ctl($mock, 'reset');
		QstashTest::ctl($mock, 'queue', '--path', '/v2/qstash/users', @$daily_hour);
		(undef, $e) = session($node, 'SELECT count(*) FROM qstash_users()');
		like($e, qr/daily rate limit/, 'preloaded: a daily 429 that resets in an hour');
		(undef, $e) = session($node, 'SELECT count(*) FROM qstash_users()');
		like($e, qr/daily rate limit/, 'preloaded: the next session is refused');
		is(QstashTest::requests($mock), 1, 'preloaded: without a request');
		($out, $e) = session($node, 'SELECT count(*) FROM qstash_users()',
			'-c qstash.shared_fail_fast=off');
		is($out, "2\n", 'preloaded: with shared_fail_fast = off the request is sent and succeeds');
		($out, $e) = session($node, 'SELECT count(*) FROM qstash_users()');
		is($out, "2\n", 'preloaded: then a new session\'s request is sent and succeeds');
		is(QstashTest::requests($mock), 3, 'preloaded: both requests were sent');
		my ($d) = session($node, q{SELECT coalesce(remaining::text, 'unknown') FROM qstash_rate_limits
			WHERE api = 'developer' AND kind = 'daily'});
		is($d, "unknown\n", 'preloaded: the view shows the daily remaining as unknown, not 0');

		# qstash_cache_reset() forgets a recorded exhausted limit too
		QstashTest::ctl($mock, 'queue', '--path', '/v2/qstash/users', @$daily_hour);
		session($node, 'SELECT count(*) FROM qstash_users()');
		(undef, $e) = session($node, 'SELECT count(*) FROM qstash_users()');
		like($e, qr/daily rate limit/, 'preloaded: another daily 429 refuses the next session');
		($out) = session($node, 'SELECT qstash_cache_reset(); SELECT count(*) FROM qstash_users()');
		is($out, "\n2\n", 'preloaded: after qstash_cache_reset() a session sends and succeeds');
		is(QstashTest::requests($mock), 5, 'preloaded: one request for the 429, one after the reset');
	}
	else
	{
		is($failed, 0, 'not preloaded: the other sessions do not know of the 429');
		is(QstashTest::requests($mock), 8, 'not preloaded: each sends its request');
	}

	# 3. a burst limit of 5 a second on the developer API, 8 sessions
	# hammering for 3 seconds, half of the calls to the other API.  What
	# shared.c guarantees: at most 5 requests sent in any window of
	# QS_BURST_WINDOW_US (1.05 s), unless one waited qstash.retry_max_wait_ms
	# (set far beyond the run here).  A request reaches the mock after it is
	# sent, and none is sent before $t0: so by the time the mock received
	# its n-th request, n <= 5 * (the windows begun since $t0).  The mock's
	# own seconds are no measure: a request delayed on its way (a loaded
	# machine) lands in the next one.
	QstashTest::ctl($mock, 'reset');
	QstashTest::ctl($mock, 'burst', '5');
	my $t0 = time();
	session($node, 'SELECT count(*) FROM qstash_users()');    # learns the limit
	session($node, 'SELECT count(*) FROM qstash_queues()');    # the other API's (100)
	($ok, $tps, $done) = pgbench($node, 8, [ '-T', '3' ],
		"\\set api random(0, 1)\n\\if :api\nSELECT count(*) FROM qstash_users();\n"
		  . "\\else\nSELECT count(*) FROM qstash_queues();\n\\endif",
		'-c qstash.retry_max_wait_ms=30000');
	my ($max, $total) = QstashTest::ctl($mock, 'persecond', '--path', '/v2/qstash/')
	  =~ /max_per_second=(\d+) requests=(\d+)/;
	my ($over, $closest) = burst_overrun($mock, '/v2/qstash/', 5, 1.05, $t0);
	note("$what: burst 5/s, 8 sessions for 3 s: $done calls, $total requests, at most $max in"
		  . " a second of the mock, " . ($over eq '' ? "within the budget (closest: $closest)" : "over it: $over"));
	if ($preload)
	{
		ok($ok, 'preloaded: every call succeeded');
		is($over, '', "preloaded: at most 5 requests a budget window (1.05 s) since the start,"
			  . " with the other API's calls mixed in ($total requests)");
		ok($total >= 10, "preloaded: and still $total requests in 3 s");
	}
	else
	{
		isnt($over, '', "not preloaded: the sessions overrun the burst budget ($over; $max in a second)");
	}
	$figures{$what}{burst} = [ $tps, $total ];
	QstashTest::ctl($mock, 'burst', '0');

	# 4. two roles, two mappings (one with a wrong key): nothing shared
	QstashTest::ctl($mock, 'reset');
	$node->safe_psql('postgres', 'SELECT qstash_cache_reset()');
	$node->safe_psql('postgres', qq{
		CREATE ROLE other LOGIN; CREATE ROLE twin LOGIN;
		GRANT USAGE ON FOREIGN SERVER upstash TO other, twin;
		GRANT EXECUTE ON FUNCTION qstash_users(name) TO other, twin;
		CREATE USER MAPPING FOR other SERVER upstash OPTIONS (email '$mock->{email}', api_key 'wrong');
		CREATE USER MAPPING FOR twin SERVER upstash OPTIONS (email '$mock->{email}', api_key '$mock->{key}');
	});
	my ($out) = session($node, 'SELECT count(*) FROM qstash_users()', '-c qstash.cache_ttl=60');
	is($out, "2\n", "$what: one role's call");
	my ($o2, $e2) = session($node, 'SET ROLE other; SELECT count(*) FROM qstash_users()',
		'-c qstash.cache_ttl=60');
	like($e2, qr/401|rejected|credentials/i, "$what: another mapping with a wrong key gets its own 401");
	my ($o3) = session($node, 'SET ROLE twin; SELECT count(*) FROM qstash_users()', '-c qstash.cache_ttl=60');
	is($o3, "2\n", "$what: a third role with the same key");
	is(QstashTest::requests($mock), 3, "$what: each role made its own request");

	if ($preload)
	{
		# 5. the view shows what any backend saw, for servers the role may use
		QstashTest::ctl($mock, 'burst', '7');
		session($node, 'SELECT count(*) FROM qstash_users()');
		session($node, 'SELECT count(*) FROM qstash_queues()');
		my ($v) = session($node, q{SELECT kind || '=' || "limit" FROM qstash_rate_limits
			WHERE api = 'developer' AND kind = 'burst'});
		is($v, "burst=7\n", 'preloaded: a new session sees the burst limit another saw');
		my ($both) = session($node, q{SELECT api || ' ' || kind || '=' || "limit" FROM qstash_rate_limits
			WHERE kind = 'burst' ORDER BY api});
		is($both, "developer burst=7\nqstash burst=100\n",
			'preloaded: the two APIs\' burst limits are two rows');
		QstashTest::ctl($mock, 'burst', '0');
		$node->safe_psql('postgres', 'CREATE ROLE nobody LOGIN; GRANT SELECT ON qstash_rate_limits TO nobody;'
			  . 'GRANT EXECUTE ON FUNCTION qstash_rate_limits() TO nobody');
		my ($vn) = session($node, q{SET ROLE nobody; SELECT count(*) FROM qstash_rate_limits});
		is($vn, "0\n", 'preloaded: a role without USAGE sees no row');

		# 6. a backend killed while it fetches for the others leaves nothing held
		QstashTest::ctl($mock, 'reset');
		QstashTest::ctl($mock, 'queue', '--path', '/v2/qstash/users', '--delay-ms', '4000');
		my ($bo, $be) = ('', '');
		local $ENV{PGOPTIONS} = '-c qstash.cache_ttl=60 -c application_name=victim';
		my $h = IPC::Run::start([ 'psql', '-XAtq', '-h', $node->host, '-p', $node->port, '-d', 'postgres',
				'-c', "SELECT count(*) FROM qstash_users(); SELECT 'x'" ], '>', \$bo, '2>', \$be);
		usleep(800_000);
		$node->safe_psql('postgres', q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'victim'});
		$h->finish;
		my $t0 = time();
		my ($after) = session($node, 'SELECT count(*) FROM qstash_users()', '-c qstash.cache_ttl=60');
		my $took = time() - $t0;
		is($after, "2\n", 'preloaded: after the fetching backend was killed, another fetches');
		ok($took < 3, sprintf('preloaded: without waiting for it (%.2f s)', $took));

		# 7. a fetch cancelled (statement_timeout, as pg_cancel_backend)
		# while another session waits for its response: the waiter goes on
		# at once, not after timeout_ms
		QstashTest::ctl($mock, 'reset');
		$node->safe_psql('postgres', 'SELECT qstash_cache_reset()');
		QstashTest::ctl($mock, 'queue', '--path', '/v2/qstash/users', '--delay-ms', '6000');
		my ($ao, $ae, $wo, $we) = ('', '', '', '');
		# (its session lives on after the cancel: a waiter that only noticed
		# a backend gone would not go on here)
		my $fetcher = IPC::Run::start([ 'psql', '-XAtq', '-h', $node->host, '-p', $node->port,
				'-d', 'postgres', '-c', 'SET qstash.cache_ttl = 60', '-c', 'SET statement_timeout = 1500',
				'-c', 'SELECT count(*) FROM qstash_users()', '-c', 'SET statement_timeout = 0',
				'-c', 'SELECT pg_sleep(4)' ], '>', \$ao, '2>', \$ae);
		usleep(500_000);
		my $w0 = time();
		my $waiter = IPC::Run::start([ 'psql', '-XAtq', '-h', $node->host, '-p', $node->port,
				'-d', 'postgres', '-c', 'SET qstash.cache_ttl = 60; SELECT count(*) FROM qstash_users()' ],
			'>', \$wo, '2>', \$we);
		$waiter->finish;
		my $waited = time() - $w0;
		$fetcher->finish;
		like($ae, qr/canceling statement due to statement timeout/, 'preloaded: the fetch is cancelled by statement_timeout');
		is($wo, "2\n", 'preloaded: the session that waited for it fetches itself');
		ok($waited < 4, sprintf('preloaded: as soon as the fetch was cancelled (%.2f s after it began to wait)', $waited));
		is(QstashTest::requests($mock), 2, 'preloaded: one request each');

		# 7b. a 404 one session kept in shared memory for an instance's stats
		# (a lookup by id may miss) never answers another session's listing
		# of every instance, which expects it to exist
		QstashTest::ctl($mock, 'reset');
		$node->safe_psql('postgres', 'SELECT qstash_cache_reset()');
		QstashTest::ctl($mock, 'queue', '--path', '/v2/qstash/stats/99a4c327-31f0-490f-a594-043ade84085a',
			'--status', '404', '--body', '{"error":"not yet"}');
		my ($by_id) = session($node, q{SELECT count(*) FROM qstash_stats(qstash_id => '99a4c327-31f0-490f-a594-043ade84085a')},
			'-c qstash.cache_ttl=60');
		is($by_id, "0\n", 'preloaded: a lookup by id that misses (404) has no rows');
		my ($listing, $lerr) = session($node, q{SELECT count(DISTINCT qstash_id) FROM qstash_stats()},
			'-c qstash.cache_ttl=60');
		is("$listing$lerr", "2\n", 'preloaded: another session\'s listing of every instance has both, not the kept 404');
		like(QstashTest::ctl($mock, 'log'), qr{(?s)stats/99a4c327-31f0-490f-a594-043ade84085a.*stats/99a4c327-31f0-490f-a594-043ade84085a},
			'preloaded: it sent the request for that instance again');

		# 8. a daily 429 of one credential refuses only that credential: the
		# same server with another mapping still sends its requests
		QstashTest::ctl($mock, 'reset');
		$node->safe_psql('postgres', 'SELECT qstash_cache_reset()');
		QstashTest::ctl($mock, 'queue', '--path', '/v2/qstash/users', @$daily);
		session($node, 'SELECT count(*) FROM qstash_users()');
		my (undef, $e8) = session($node, 'SELECT count(*) FROM qstash_users()');
		like($e8, qr/daily rate limit/, 'preloaded: the exhausted credential is refused at once');
		is(QstashTest::requests($mock), 1, 'preloaded: without a request');
		my (undef, $eo) = session($node, 'SET ROLE other; SELECT count(*) FROM qstash_users()');
		like($eo, qr/401|rejected|credentials/i, 'preloaded: another credential on the same server is not refused: its request is sent');
		is(QstashTest::requests($mock), 2, 'preloaded: and the mock sees it');
	}
	$node->stop;
}

note(sprintf("8 sessions, cache_ttl = 60: preloaded %.0f tps, %d request(s); not preloaded %.0f tps, %d requests",
	@{ $figures{preloaded}{cached} }, @{ $figures{'not preloaded'}{cached} }));
QstashTest::stop_mock($mock);
done_testing();
