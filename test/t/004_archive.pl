# The log archive and the DLQ history, run by a real pg_cron job against the
# mock holding 3 000 events over 4 days: backfill within the request budget
# over several runs, later runs read only new windows, nothing missed and
# nothing twice, a daily 429 mid-run keeps the completed windows, late
# arrivals within the overlap are picked up; DLQ first/last seen and left_at;
# pg_dump keeps all of it.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use File::Temp qw(tempdir);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use QstashTest;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep time);

my $node = QstashTest::cron_node('archive');

my $mock = QstashTest::start_mock();
QstashTest::setup_node($node, $mock);
$node->safe_psql('postgres', qq{
	CREATE EXTENSION pg_cron;
	ALTER SERVER upstash OPTIONS (ADD qstash_url '$mock->{url}');
	ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token '$mock->{token}');
	CREATE SERVER second FOREIGN DATA WRAPPER qstash_fdw
	  OPTIONS (api_url '$mock->{url}', qstash_url '$mock->{url}');
	CREATE USER MAPPING FOR CURRENT_USER SERVER second
	  OPTIONS (email '$mock->{email}', api_key '$mock->{key}', token '$mock->{token}');
});

my $dir = tempdir(CLEANUP => 1);
my $json = JSON::PP->new->canonical;
my @states = qw(DELIVERED FAILED ERROR RETRY CREATED);
my @urls = ('https://a.example.com/hook', 'https://b.example.com/hook', 'https://c.example.com/hook');

# n events, newest first, every step ms from `newest` back
sub events
{
	my ($prefix, $n, $newest, $step) = @_;
	return [ map {
		{ time => $newest - $_ * $step - ($_ % 7), messageId => sprintf('%s%05d', $prefix, $_),
		  state => $states[ $_ % 5 ], url => $urls[ $_ % 3 ], method => 'POST',
		  body => 'eyJuIjoxfQ==' }
	} 0 .. $n - 1 ];
}

sub set_rows
{
	my ($what, $how, $rows) = @_;
	my $file = "$dir/$what.json";
	open(my $fh, '>', $file) or die;
	print $fh $json->encode($rows);
	close($fh);
	return QstashTest::ctl($mock, $what, $how, $file);
}

# the mock's GET /v2/events requests since its last reset (query strings)
sub event_queries
{
	my @lines = split /\n/, QstashTest::ctl($mock, 'log');
	return [ map { /^GET \/v2\/events\?(\S*)/ ? ($1) : () } @lines ];
}

sub psql_row { return $node->safe_psql('postgres', $_[0]); }

# 3 000 events over 4 days (one every 115 s), the newest 10 minutes ago
my $now_ms = int(time() * 1000);
my $all = events('m', 3000, $now_ms - 600_000, 115_000);
like(set_rows('events', 'set', $all), qr/events: 3000/, 'the mock holds 3000 events');

# 1. the README's cron line, with a budget of 10 requests a run
psql_row(q{SELECT cron.schedule('qstash-archive', '* * * * *',
  $$CALL qstash_archive_logs('upstash', max_requests => 10, backfill => '5 days')$$)});
my $runs = 0;
for (1 .. 1500)    # pg_cron starts jobs on minute boundaries: <= 150 s for 2 runs
{
	$runs = psql_row(q{SELECT count(*) FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')});
	last if $runs >= 2;
	usleep(100_000);
}
psql_row(q{SELECT cron.unschedule('qstash-archive')});
is($runs, '2', 'pg_cron ran the archive job twice');
note(psql_row(q{SELECT status, return_message FROM cron.job_run_details ORDER BY start_time}));
is(psql_row(q{SELECT count(*) FROM cron.job_run_details WHERE status <> 'succeeded'}), '0',
	'both runs succeeded');
my ($rows1, $req1, $caught1) = split /\|/, psql_row(q{
	SELECT rows, last_run_requests, caught_up FROM qstash_archive_status WHERE server = 'upstash' AND kind = 'logs'});
ok($req1 <= 10, "the second run spent $req1 requests (budget 10)");
is($caught1, 'f', 'two runs of 10 requests do not backfill 3000 events');
ok($rows1 > 0 && $rows1 < 3000, "the two runs archived $rows1 of 3000 events");
is(QstashTest::requests($mock), 20, 'two runs made exactly 20 requests (the whole budget)');

# 2. the next runs (the same CALL) go on where they stopped, until caught up
my ($calls, $out) = (0, '');
for (1 .. 30)
{
	$out = psql_row(q{CALL qstash_archive_logs('upstash', max_requests => 10, backfill => '5 days')});
	$calls++;
	my @f = split /\|/, $out;
	fail("run $calls spent $f[1] requests, over its budget of 10") if $f[1] > 10;
	last if $f[3] eq 't';
}
like($out, qr/^\d+\|\d+\|\d+\|t\|$/, "caught up after $calls more runs");
my $ids = join(',', map { $_->{messageId} } sort { $a->{messageId} cmp $b->{messageId} } @$all);
is(psql_row(q{SELECT count(*) FROM qstash_log_archive WHERE server = 'upstash'}), '3000',
	'the archive holds 3000 entries');
is(psql_row(q{SELECT string_agg(message_id, ',' ORDER BY message_id) FROM qstash_log_archive WHERE server = 'upstash'}),
	$ids, 'the archive equals the mock\'s event list: no gap, no duplicate');
is(psql_row(q{SELECT count(*) FROM qstash_log_archive WHERE server = 'upstash' AND
	(method IS DISTINCT FROM 'POST' OR body IS DISTINCT FROM '{"n":1}'::bytea OR url IS NULL
	 OR state IS NULL OR "time" IS NULL OR archived_at IS NULL)}), '0',
	'every column came along');

# 3. a later run asks only for the new window (from the progress, less the
# 5-minute overlap), and stores nothing twice
QstashTest::ctl($mock, 'reset');
set_rows('events', 'set', $all);
my $from = psql_row(q{SELECT (extract(epoch FROM archived_to - interval '5 minutes') * 1000)::bigint
	FROM qstash_archive_state WHERE server = 'upstash' AND kind = 'logs'});
$out = psql_row(q{CALL qstash_archive_logs('upstash', max_requests => 10)});
like($out, qr/^0\|1\|1\|t\|$/, 'a run with nothing new: 0 rows, 1 request, 1 window');
my $q = event_queries();
is(scalar(@$q), 1, 'one request');
my ($fromq) = $q->[0] =~ /fromDate=(\d+)/;
ok(defined $fromq && abs($fromq - $from) <= 1, "it asks from the progress less the overlap ($q->[0])");

# 4. late arrivals within the overlap are picked up; the new ones too
my $to = psql_row(q{SELECT (extract(epoch FROM archived_to) * 1000)::bigint
	FROM qstash_archive_state WHERE server = 'upstash' AND kind = 'logs'});
set_rows('events', 'add', [ @{ events('late', 5, $to - 60_000, 1000) },
	@{ events('new', 7, int(time() * 1000) - 1000, 10) } ]);
$out = psql_row(q{CALL qstash_archive_logs('upstash', max_requests => 10)});
like($out, qr/^12\|\d+\|\d+\|t\|$/, '5 late and 7 new events are added');
is(psql_row(q{SELECT count(*) FROM qstash_log_archive WHERE server = 'upstash'}), '3012',
	'3012 entries, none twice');

# 5. a daily 429 in the middle of a run (server "second", from scratch):
# the completed windows stay, the error is recorded, the next run completes
QstashTest::ctl($mock, 'reset');
set_rows('events', 'set', $all);
QstashTest::ctl($mock, 'queue', '--path', '/v2/events', '--after', '17', '--status', '429',
	'--header', 'RateLimit-Limit: 1000', '--header', 'RateLimit-Remaining: 0',
	'--header', 'RateLimit-Reset: 1795003600');
my ($stdout, $stderr) = ('', '');
IPC::Run::run([ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c',
	q{CALL qstash_archive_logs('second', max_requests => 100, backfill => '5 days')} ],
	'>', \$stdout, '2>', \$stderr);
like($stdout, qr/^(\d+)\|18\|\d+\|f\|daily rate limit of the Upstash API exceeded/,
	'the run stops at the 429 (the 18th request) and says why');
like($stderr, qr/WARNING:  qstash_archive_logs stopped on server "second": daily rate limit/,
	'with a WARNING');
my ($kept) = $stdout =~ /^(\d+)\|/;
ok($kept > 0, "the windows completed before the 429 are kept ($kept rows)");
is(psql_row(q{SELECT rows, caught_up, last_error LIKE 'daily rate limit%', last_error_at IS NOT NULL
	FROM qstash_archive_status WHERE server = 'second' AND kind = 'logs'}),
	"$kept|f|t|t", 'the status view shows the kept rows and the error');
$out = psql_row(q{CALL qstash_archive_logs('second', max_requests => 100, backfill => '5 days')});
like($out, qr/^\d+\|\d+\|\d+\|t\|$/, 'the next run completes');
is(psql_row(q{SELECT count(*), count(DISTINCT (message_id, state, "time")) FROM qstash_log_archive WHERE server = 'second'}),
	'3000|3000', 'server "second": 3000 entries, no gap, no duplicate');

# 6. DLQ history: added, still there, gone
sub dlq
{
	my @ids = @_;
	return [ map { { dlqId => "dlq_$_", messageId => "msg_$_", createdAt => $now_ms - 1000 * $_,
		url => $urls[ $_ % 3 ], method => 'POST', body => '{}', responseStatus => 500 } } @ids ];
}
set_rows('dlq', 'set', dlq(1, 2, 3));
is(psql_row(q{SELECT * FROM qstash_archive_dlq('upstash')}), '3|0|0', 'first run: 3 added');
psql_row(q{SELECT pg_sleep(0.01)});
set_rows('dlq', 'set', dlq(2, 3, 4));
is(psql_row(q{SELECT * FROM qstash_archive_dlq('upstash')}), '1|2|1', 'second run: 1 added, 2 present, 1 gone');
is(psql_row(q{SELECT string_agg(format('%s:%s:%s', dlq_id, first_seen = last_seen, left_at IS NOT NULL), ',' ORDER BY dlq_id)
	FROM qstash_dlq_history WHERE server = 'upstash'}),
	'dlq_1:t:t,dlq_2:f:f,dlq_3:f:f,dlq_4:t:f',
	'first/last seen and left_at: 1 left, 2 and 3 seen twice, 4 new');
is(psql_row(q{SELECT count(*) FROM qstash_dlq_history h, qstash_archive_state s
	WHERE s.server = 'upstash' AND s.kind = 'dlq' AND h.dlq_id = 'dlq_1' AND h.left_at = s.last_run_at
	  AND h.last_seen < h.left_at}), '1', 'dlq_1 left at the second run, after it was last seen');
QstashTest::ctl($mock, 'queue', '--path', '/v2/dlq', '--status', '429',
	'--header', 'RateLimit-Limit: 1000', '--header', 'RateLimit-Remaining: 0',
	'--header', 'RateLimit-Reset: 1795003600');
is(psql_row(q{SET client_min_messages = error; SELECT * FROM qstash_archive_dlq('upstash')}), '||',
	'a failed listing changes nothing');
is(psql_row(q{SELECT count(*) FILTER (WHERE h.left_at IS NULL), s.last_error LIKE 'daily rate limit%'
	FROM qstash_dlq_history h JOIN qstash_archive_status s ON s.server = h.server AND s.kind = 'dlq'
	WHERE h.server = 'upstash' GROUP BY s.last_error}), '3|t', '3 messages still present, the error recorded');

# 7. pg_dump dumps the archive, the history and the progress
IPC::Run::run([ 'pg_dump', '-d', $node->connstr('postgres'), '--data-only' ],
	'>', \$stdout, '2>', \$stderr);
for my $t (qw(qstash_log_archive qstash_dlq_history qstash_archive_state))
{
	like($stdout, qr/^COPY public\.$t /m, "pg_dump dumps $t");
}
my $archived = () = $stdout =~ /^(?:upstash|second)\t[^\t]*\tm\d{5}\t/mg;
is($archived, 6000, 'with its 6000 archived events');

# 8. review findings: the procedure's expressions cannot be taken from the
# caller's search_path; a retry never overruns the budget; a DLQ message
# listed twice counts once; a new server under an old name does not inherit
psql_row(q{
	CREATE ROLE arch LOGIN;
	GRANT CREATE ON SCHEMA public TO arch;
	SET ROLE arch;
	CREATE FUNCTION public.evil_mul(i interval, n integer) RETURNS interval LANGUAGE plpgsql AS $$
	BEGIN EXECUTE 'ALTER ROLE arch SUPERUSER'; RETURN i; END $$;
	CREATE OPERATOR public.* (LEFTARG = interval, RIGHTARG = integer, FUNCTION = public.evil_mul);
	CREATE OPERATOR public./ (LEFTARG = interval, RIGHTARG = integer, FUNCTION = public.evil_mul);
	RESET ROLE;
});
QstashTest::ctl($mock, 'reset');
set_rows('events', 'set', $all);
psql_row(q{CALL qstash_archive_logs('upstash', max_requests => 3)});
is(psql_row(q{SELECT rolsuper FROM pg_roles WHERE rolname = 'arch'}), 'f',
	'an operator in the caller\'s search_path is not used by the procedure');
QstashTest::ctl($mock, 'reset');
QstashTest::ctl($mock, 'queue', '--path', '/v2/events', '--status', '503', '--times', '3');
psql_row(q{SET client_min_messages = error; CALL qstash_archive_logs('upstash', max_requests => 1)});
is(QstashTest::requests($mock), 1, 'a 503 is not retried past a budget of 1 request');
is(psql_row(q{SELECT last_error LIKE '%503%' FROM qstash_archive_state WHERE server = 'upstash' AND kind = 'logs'}),
	't', 'and the 503 is recorded');
set_rows('dlq', 'set', [ @{ dlq(7) }, @{ dlq(7) }, @{ dlq(8) } ]);
is(psql_row(q{SELECT * FROM qstash_archive_dlq('upstash')}), '2|0|3', 'a message listed twice counts once');
psql_row(q{ALTER SERVER second RENAME TO second_old});
psql_row(qq{CREATE SERVER second FOREIGN DATA WRAPPER qstash_fdw
	  OPTIONS (api_url '$mock->{url}', qstash_url '$mock->{url}');
	CREATE USER MAPPING FOR CURRENT_USER SERVER second
	  OPTIONS (email '$mock->{email}', api_key '$mock->{key}', token '$mock->{token}')});
IPC::Run::run([ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c',
	q{CALL qstash_archive_logs('second')} ], '>', \$stdout, '2>', \$stderr);
like($stderr, qr/ERROR:  the archive of server "second" was made for another server of that name/,
	'a new server under an old name does not inherit its archive');

$node->stop;
QstashTest::stop_mock($mock);
done_testing();
