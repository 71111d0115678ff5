# Keys of the shared state (shared_preload_libraries = 'qstash'): what one
# credential saw never answers or refuses another, a limit remembered in
# shared memory ends at its own reset (given in seconds, as the API may
# send it), and a fetch that fails inside a PL/pgSQL EXCEPTION block gives
# up its single-flight claim at once, so that other sessions do not wait.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use QstashTest;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep time);

my $mock = QstashTest::start_mock();
my $node = PostgreSQL::Test::Cluster->new('keys');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'qstash'\n");
$node->start;
QstashTest::setup_node($node, $mock);
# two roles whose mappings differ only in their token (one is wrong)
$node->safe_psql('postgres', qq{
	ALTER SERVER upstash OPTIONS (ADD qstash_url '$mock->{url}');
	ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token '$mock->{token}');
	CREATE ROLE tok_a LOGIN; CREATE ROLE tok_b LOGIN;
	GRANT USAGE ON FOREIGN SERVER upstash TO tok_a, tok_b;
	GRANT EXECUTE ON FUNCTION qstash_queues(name), qstash_users(name) TO tok_a, tok_b;
	CREATE USER MAPPING FOR tok_a SERVER upstash
	  OPTIONS (email '$mock->{email}', api_key '$mock->{key}', token '$mock->{token}');
	CREATE USER MAPPING FOR tok_b SERVER upstash
	  OPTIONS (email '$mock->{email}', api_key '$mock->{key}', token 'not-the-token');
});

# one session: (stdout, stderr)
sub session
{
	my ($sql, $options) = @_;
	my ($out, $err) = ('', '');
	local $ENV{PGOPTIONS} = $options // '';
	IPC::Run::run([ 'psql', '-XAtq', '-h', $node->host, '-p', $node->port, '-d', 'postgres',
			'-c', $sql ], '>', \$out, '2>', \$err);
	return ($out, $err);
}

# 1. a daily 429 of one token refuses that token only: the other role's
# request (same server, same email and key, another token) is sent
QstashTest::ctl($mock, 'reset');
QstashTest::ctl($mock, 'queue', '--path', '/v2/queues', '--status', '429',
	'--header', 'RateLimit-Limit: 500', '--header', 'RateLimit-Remaining: 0',
	'--reset-header', 'RateLimit-Reset', '--reset-in-ms', '3600000');
my (undef, $ea) = session('SET ROLE tok_a; SELECT count(*) FROM qstash_queues()');
like($ea, qr/ERROR:  daily rate limit/, 'token A: a daily 429');
(undef, $ea) = session('SET ROLE tok_a; SELECT count(*) FROM qstash_queues()');
like($ea, qr/ERROR:  daily rate limit/, 'token A: refused at once in a new session');
is(QstashTest::requests($mock), 1, 'token A: without a request');
my (undef, $eb) = session('SET ROLE tok_b; SELECT count(*) FROM qstash_queues()');
like($eb, qr/ERROR:  the Upstash API rejected the credentials/, 'token B: not refused for A\'s limit: its own 401');
is(QstashTest::requests($mock), 2, 'token B: its request was sent');
# the developer API of token A (email and key: another limit) is not refused either
my ($ua) = session('SET ROLE tok_a; SELECT count(*) FROM qstash_users()');
is($ua, "2\n", 'token A: the developer API is not refused');
$node->safe_psql('postgres', 'SELECT qstash_cache_reset()');

# 2. a limit remembered in shared memory ends at its reset, given in
# seconds: refused before it, sent and answered after it
QstashTest::ctl($mock, 'reset');
my $reset_s = int(time()) + 4;
QstashTest::ctl($mock, 'queue', '--path', '/v2/qstash/users', '--status', '429',
	'--header', 'RateLimit-Limit: 1000', '--header', 'RateLimit-Remaining: 0',
	'--header', "RateLimit-Reset: $reset_s");
my (undef, $e2) = session('SELECT count(*) FROM qstash_users()');
like($e2, qr/ERROR:  daily rate limit/, 'a daily 429 whose reset is in seconds');
(undef, $e2) = session('SELECT count(*) FROM qstash_users()');
like($e2, qr/ERROR:  daily rate limit/, 'refused at once before its reset');
is(QstashTest::requests($mock), 1, 'without a request');
usleep(100_000) while time() < $reset_s + 0.3;
my ($o2, $e2b) = session('SELECT count(*) FROM qstash_users()');
is("$o2$e2b", "2\n", 'after its reset, a new session sends and succeeds');
is(QstashTest::requests($mock), 2, 'with one more request');

# 3. the shared cache keys on the credentials sent: after the token of a
# mapping changes, another session's kept response for the old token is
# not served (the new token is wrong: a 401, sent)
QstashTest::ctl($mock, 'reset');
$node->safe_psql('postgres', 'SELECT qstash_cache_reset()');
my ($q1) = session('SET ROLE tok_a; SELECT count(*) FROM qstash_queues()', '-c qstash.cache_ttl=300');
is($q1, "2\n", 'token A: a kept listing');
my ($q2) = session('SET ROLE tok_a; SELECT count(*) FROM qstash_queues()', '-c qstash.cache_ttl=300');
is($q2, "2\n", 'token A: served from shared memory');
is(QstashTest::requests($mock), 1, 'token A: one request for both sessions');
$node->safe_psql('postgres', q{ALTER USER MAPPING FOR tok_a SERVER upstash OPTIONS (SET token 'changed')});
my (undef, $e3) = session('SET ROLE tok_a; SELECT count(*) FROM qstash_queues()', '-c qstash.cache_ttl=300');
like($e3, qr/ERROR:  the Upstash API rejected the credentials/, 'the changed token is sent, not answered from the old one\'s response');
is(QstashTest::requests($mock), 2, 'with a request');
$node->safe_psql('postgres', qq{ALTER USER MAPPING FOR tok_a SERVER upstash OPTIONS (SET token '$mock->{token}')});

# 3b. nor does another role's session (its mapping differs only in its
# token) get tok_a's kept response: its own request is sent
QstashTest::ctl($mock, 'reset');
$node->safe_psql('postgres', 'SELECT qstash_cache_reset()');
($q1) = session('SET ROLE tok_a; SELECT count(*) FROM qstash_queues()', '-c qstash.cache_ttl=300');
is($q1, "2\n", 'token A: kept again');
my (undef, $e3b) = session('SET ROLE tok_b; SELECT count(*) FROM qstash_queues()', '-c qstash.cache_ttl=300');
like($e3b, qr/ERROR:  the Upstash API rejected the credentials/, 'token B: its own 401, not token A\'s kept listing');
is(QstashTest::requests($mock), 2, 'token B: with a request of its own');

# 3c. a kept response ends with qstash.cache_ttl: after it, a new session
# sends again
QstashTest::ctl($mock, 'reset');
$node->safe_psql('postgres', 'SELECT qstash_cache_reset()');
session('SELECT count(*) FROM qstash_users()', '-c qstash.cache_ttl=1');
my ($t1) = session('SELECT count(*) FROM qstash_users()', '-c qstash.cache_ttl=1');
is($t1, "2\n", 'cache_ttl = 1: a second session within the second');
my $within = QstashTest::requests($mock);
usleep(1_300_000);
my ($t2) = session('SELECT count(*) FROM qstash_users()', '-c qstash.cache_ttl=1');
is($t2, "2\n", 'cache_ttl = 1: a session after it');
is(QstashTest::requests($mock), $within + 1, 'which sent its request again');

# 4. a shared fetch that fails inside an EXCEPTION block (a subtransaction
# rolled back, the transaction going on) releases its claim: another
# session fetches at once, instead of waiting for the first to end
QstashTest::ctl($mock, 'reset');
$node->safe_psql('postgres', 'SELECT qstash_cache_reset()');
QstashTest::ctl($mock, 'queue', '--path', '/v2/qstash/users', '--status', '503',
	'--body', '{"error":"down"}', '--delay-ms', '300');
my ($fo, $fe) = ('', '');
my $fetcher = IPC::Run::start([ 'psql', '-XAtq', '-h', $node->host, '-p', $node->port,
		'-d', 'postgres', '-c', q{
	SET qstash.cache_ttl = 60;
	SET qstash.max_retries = 0;
	DO $$
	BEGIN
	  BEGIN
	    PERFORM count(*) FROM qstash_users();
	  EXCEPTION WHEN OTHERS THEN
	    RAISE NOTICE 'caught %', SQLSTATE;
	  END;
	  PERFORM pg_sleep(8);
	END
	$$;} ], '>', \$fo, '2>', \$fe);
# the failure is in: the fetcher sleeps in the same transaction (at most
# 10 s for its request to arrive)
for (1 .. 100)
{
	last if QstashTest::requests($mock) >= 1;
	usleep(100_000);
}
is(QstashTest::requests($mock), 1, 'the fetcher sent its request');
usleep(700_000);
QstashTest::ctl($mock, 'clearlog');
my $t0 = time();
my ($wo, $we) = session('SELECT count(*) FROM qstash_users()', '-c qstash.cache_ttl=60 -c statement_timeout=5000');
my $waited = time() - $t0;
is("$wo$we", "2\n", 'another session fetches while the failed fetcher\'s transaction goes on');
ok($waited < 4, sprintf('without waiting for it to end (%.2f s; it sleeps 8 s)', $waited));
is(QstashTest::requests($mock), 1, 'with a request of its own');
$fetcher->finish;
like($fe, qr/caught QS020/, 'the fetcher caught its 503');

$node->stop;
QstashTest::stop_mock($mock);
done_testing();
