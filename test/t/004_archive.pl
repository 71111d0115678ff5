# The log archive and the DLQ history at the rates of a busy account,
# against the mock (which pages newest first, 100 entries a page, with a
# position cursor, like QStash):
# - 24 000 entries at 40/s caught up at 100 requests a run, at the cost of
#   what it reads; 3 000 new entries in one run with the default overlap;
#   same-millisecond bursts (3 000, and 10 000 at a budget of 2 requests:
#   every run makes progress); 100 entries/s streamed during several runs;
# - a real pg_cron job whose run fails is recorded as failed, and the rows
#   read before are kept; the error is shown, then cleared by a success;
# - a DLQ of 30 000 messages over runs of a bounded budget, and 100 removed
#   messages marked as gone only after the next complete pass;
# - pg_dump -Fc, restored into a new database and into a new cluster, goes
#   on with no error, no gap and no duplicate;
# - review findings: no operator from the caller's search_path, no retries,
#   a server created again under an archived name, a larger backfill.
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

# pg_cron runs one job here; where the PostgreSQL under test has no
# pg_cron, the job's run is made by hand and only what pg_cron records is
# skipped
my $no_cron = QstashTest::no_cron_reason();
my $node = QstashTest::cron_node('archive', 1);
my $mock = QstashTest::start_mock();
my $cmock = QstashTest::start_mock();    # the pg_cron job's own API
QstashTest::setup_node($node, $mock);
$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron') if $no_cron eq '';
$node->safe_psql('postgres', qq{
	ALTER SERVER upstash OPTIONS (ADD qstash_url '$mock->{url}');
	ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token '$mock->{token}');
	CREATE SERVER cronsrv FOREIGN DATA WRAPPER qstash_fdw
	  OPTIONS (api_url '$cmock->{url}', qstash_url '$cmock->{url}');
	CREATE USER MAPPING FOR CURRENT_USER SERVER cronsrv
	  OPTIONS (email '$cmock->{email}', api_key '$cmock->{key}', token '$cmock->{token}');
});

my $dir = tempdir(CLEANUP => 1);
my $json = JSON::PP->new->canonical;
my $files = 0;

sub now_ms { return int(time() * 1000); }

# ctl.py events|dlq set|add|remove|gen, with its JSON in a file
sub mock_rows
{
	my ($m, $what, $how, $data) = @_;
	my $file = "$dir/rows" . $files++ . '.json';
	open(my $fh, '>', $file) or die;
	print $fh $json->encode($data);
	close($fh);
	return QstashTest::ctl($m, $what, $how, $file);
}

sub gen
{
	my ($m, $what, $n, $newest, $step_ms, $prefix) = @_;
	return mock_rows($m, $what, 'gen',
		{ n => $n, newest => $newest, step_ms => $step_ms, prefix => $prefix });
}

sub psql_row
{
	my ($sql, $db) = @_;
	return $node->safe_psql($db // 'postgres', $sql);
}

# psql with its stderr: (stdout, stderr)
sub psql_err
{
	my ($sql, $n, $db, $var) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'psql', '-XAtq', '-v', $var // 'ON_ERROR_STOP=0',
		'-d', ($n // $node)->connstr($db // 'postgres'), '-c', $sql ],
		'>', \$out, '2>', \$err);
	chomp $out;
	return ($out, $err);
}

# Does the archive of a server equal the mock's list? (id|state|ms lines)
sub archive_equals_mock
{
	my ($m, $server, $label, $n, $db) = @_;
	my @want = sort split /\n/, QstashTest::ctl($m, 'list', 'events');
	my @got = sort split /\n/, ($n // $node)->safe_psql($db // 'postgres', qq{
		SELECT format('%s|%s|%s', message_id, state, (extract(epoch FROM "time") * 1000)::bigint)
		  FROM qstash_log_archive WHERE server = '$server'});
	my $dups = ($n // $node)->safe_psql($db // 'postgres', qq{
		SELECT count(*) - count(DISTINCT (message_id, state, "time")) FROM qstash_log_archive WHERE server = '$server'});
	ok(scalar(@want) > 0 && join("\n", @want) eq join("\n", @got) && $dups eq '0',
		"$label: the archive equals the API's list (" . scalar(@got) . ' of ' . scalar(@want)
		  . " entries, $dups duplicates)");
}

# One run: (rows_added, requests, windows, caught_up)
sub run_logs
{
	my ($server, $budget, $extra, $db) = @_;
	$extra = $extra ? ", $extra" : '';
	return split /\|/, psql_row(
		"CALL qstash_archive_logs('$server', max_requests => $budget$extra)", $db);
}

# 0. A pg_cron job whose run fails (a daily 429 on its 6th request): it
# runs on its own API while the rest of the test goes on.
mock_rows($cmock, 'events', 'set', []);
gen($cmock, 'events', 3000, now_ms() - 10_000, 1000, 'c');
# (every run after the first fails at once: the 429 is queued 20 times)
QstashTest::ctl($cmock, 'queue', '--path', '/v2/events', '--after', '5', '--times', '20', '--status', '429',
	'--header', 'RateLimit-Limit: 1000', '--header', 'RateLimit-Remaining: 0',
	'--header', 'RateLimit-Reset: 1795003600');
my $cron_call = q{CALL qstash_archive_logs('cronsrv', max_requests => 50, backfill => '2 hours')};
psql_row(qq{SELECT cron.schedule('qstash-archive', '* * * * *', \$\$$cron_call\$\$)}) if $no_cron eq '';

# 1. A busy account: 24 000 entries at 40 a second (10 minutes), archived
# at 100 requests a run.  Each run goes on where the last one stopped.
mock_rows($mock, 'events', 'set', []);
like(gen($mock, 'events', 24_000, now_ms() - 1000, 25, 'b'), qr/events: 24000/,
	'the mock holds 24 000 entries, 40 a second');
my ($runs, $total, $all_added, $caught) = (0, 0, 1, 'f');
my ($added, $req, $win, $cu);
for (1 .. 10)
{
	# no overlap: what reading N entries costs (the overlap is measured below)
	($added, $req, $win, $cu) = run_logs('upstash', 100, q{backfill => '1 hour', overlap => '0'});
	$runs++;
	$total += $req;
	fail("run $runs spent $req requests, over its budget of 100") if $req > 100;
	$all_added = 0 if $added == 0 && $cu ne 't';
	$caught = $cu;
	last if $cu eq 't';
}
is($caught, 't', "caught up after $runs runs");
ok($all_added, 'every run added rows until then');
my $seen = QstashTest::requests($mock);
ok($seen <= 1.1 * 240 + 2 * $runs,
	"catching up 24 000 entries cost $seen requests (goal: at most 1.1 x 240 + 2 a run = "
	  . (1.1 * 240 + 2 * $runs) . ')');
is($total, $seen, 'the runs counted every request the mock saw');
archive_equals_mock($mock, 'upstash', 'after the catch-up');
is(psql_row(q{SELECT count(*) FROM qstash_log_archive WHERE server = 'upstash' AND
	(method IS DISTINCT FROM 'POST' OR body IS DISTINCT FROM '{"n":1}'::bytea OR url IS NULL
	 OR state IS NULL OR "time" IS NULL OR archived_at IS NULL)}), '0',
	'every column came along');
my ($rate) = psql_row(q{SELECT entry_rate FROM qstash_archive_status WHERE server = 'upstash' AND kind = 'logs'});
ok($rate > 5 && $rate < 50, "the status view shows the entry rate ($rate a second)");

# Late arrivals: entries the API lists only after their window was read,
# within the overlap (a minute before the progress), are picked up
my $to = psql_row(q{SELECT (extract(epoch FROM archived_to) * 1000)::bigint
	FROM qstash_archive_state WHERE server = 'upstash' AND kind = 'logs'});
mock_rows($mock, 'events', 'add', [ (map { { time => $to - 60_000 - $_ * 1000, messageId => "late$_",
	state => 'DELIVERED', url => 'https://a.example.com/hook' } } 0 .. 4),
	(map { { time => now_ms() - 10 - $_, messageId => "new$_", state => 'DELIVERED',
	url => 'https://a.example.com/hook' } } 0 .. 6) ]);
($added, $req, $win, $cu) = run_logs('upstash', 100);
is("$added|$cu", '12|t', "5 late arrivals within the overlap and 7 new entries are added ($req requests)");
archive_equals_mock($mock, 'upstash', 'after late arrivals');

# 2. 3 000 new entries after the progress, read in one run with the default
# overlap (5 minutes: 12 000 entries, re-read with what the budget leaves)
usleep(3_200_000);
QstashTest::ctl($mock, 'clearlog');
gen($mock, 'events', 3000, now_ms() - 50, 1, 'n');
($added, $req, $win, $cu) = run_logs('upstash', 100);
is("$added|$cu", '3000|t', "one run reads the 3 000 new entries ($req requests)");
ok($req <= 100, 'within its budget');
my @q = map { /^GET \/v2\/events\?(\S*)/ ? ($1) : () } split /\n/, QstashTest::ctl($mock, 'log');
my $from = psql_row(q{SELECT (extract(epoch FROM previous_run_at - interval '5 minutes') * 1000)::bigint
	FROM qstash_archive_state WHERE server = 'upstash' AND kind = 'logs'});
my ($fromq) = $q[0] =~ /fromDate=(\d+)/;
ok(defined $fromq && abs($fromq - $from) <= 1,
	"its first window starts at the progress less the overlap ($q[0])");
archive_equals_mock($mock, 'upstash', 'after 3 000 new entries');

# 3. Bursts in one millisecond: 3 000 in one run of 100 requests; 10 000
# at a budget of 2 requests, where every run adds its 200 rows
gen($mock, 'events', 3000, now_ms() - 20, 0, 'p');
($added, $req, $win, $cu) = run_logs('upstash', 100);
is("$added|$cu", '3000|t', "a burst of 3 000 in one millisecond: one run reads it ($req requests)");
gen($mock, 'events', 10_000, now_ms() - 20, 0, 'q');
my @adds;
for (1 .. 5)
{
	($added, $req) = run_logs('upstash', 2);
	push @adds, "$added/$req";
}
is(join(',', @adds), join(',', ('200/2') x 5),
	'a burst of 10 000 in one millisecond at 2 requests a run: 200 new rows a run');
is(psql_row(q{SELECT reading IS NOT NULL AND next_cursor IS NOT NULL FROM qstash_archive_status s
	JOIN qstash_archive_state USING (server, kind) WHERE server = 'upstash' AND kind = 'logs'}),
	't', 'the status shows the window being read, and the cursor is kept');
for (1 .. 5)
{
	($added, $req, $win, $cu) = run_logs('upstash', 100);
	last if $cu eq 't';
}
is($cu, 't', 'larger runs catch up');
archive_equals_mock($mock, 'upstash', 'after the bursts');

# 4. 100 entries a second, streamed while runs go on: no run stalls
QstashTest::ctl($mock, 'stream', '100', '12', '--prefix', 'st');
my $t0 = time();
my ($stream_runs, $stalled) = (0, 0);
while (time() - $t0 < 11)
{
	usleep(1_000_000);
	($added, $req) = run_logs('upstash', 100);
	$stream_runs++;
	$stalled++ if $added == 0;
}
usleep(300_000) while time() - $t0 < 12.5;
for (1 .. 5)
{
	($added, $req, $win, $cu) = run_logs('upstash', 100);
	last if $cu eq 't';
}
ok($stream_runs >= 3 && $stalled == 0,
	"100 entries a second: each of $stream_runs runs during the stream added rows");
archive_equals_mock($mock, 'upstash', 'after the stream');

# 5. The pg_cron job: its run failed (the 429), and pg_cron says so
SKIP:
{
	if ($no_cron ne '')
	{
		psql_err($cron_call);    # the job's run, by hand
		skip $no_cron, 3;
	}
	my $done = '';
	for (1 .. 900)    # pg_cron starts jobs on minute boundaries
	{
		$done = psql_row(q{SELECT status FROM cron.job_run_details WHERE status IN ('succeeded', 'failed') LIMIT 1});
		last if $done ne '';
		usleep(100_000);
	}
	psql_row(q{SELECT cron.unschedule('qstash-archive')});
	usleep(100_000) while psql_row(q{SELECT count(*) FROM cron.job_run_details WHERE status IN ('starting', 'running')}) ne '0';
	is($done, 'failed', 'pg_cron records the failed run as failed');
	like(psql_row(q{SELECT return_message FROM cron.job_run_details WHERE status = 'failed' ORDER BY start_time LIMIT 1}),
		qr/daily rate limit of the Upstash API exceeded/, 'with the error');
	is(psql_row(q{SELECT count(*) FROM cron.job_run_details WHERE status <> 'failed'}), '0', 'every run of the job failed');
}
is(psql_row(q{SELECT rows, caught_up, last_error LIKE 'daily rate limit%', last_error_at IS NOT NULL
	FROM qstash_archive_status WHERE server = 'cronsrv' AND kind = 'logs'}),
	'500|f|t|t', 'the 5 pages read before the 429 are kept; the status shows the error');
QstashTest::ctl($cmock, 'clearlog');
($added, $req, $win, $cu) = run_logs('cronsrv', 100, q{backfill => '2 hours'});
my @cq = map { /^GET \/v2\/events\?(\S*)/ ? ($1) : () } split /\n/, QstashTest::ctl($cmock, 'log');
is("$added|$cu", '2500|t', "the next run adds the other 2 500 rows ($req requests)");
like($cq[0], qr/&cursor=/, 'its first request goes on from the kept cursor');
ok($req >= 26 && $req <= 30, "25 pages, then the overlap before the progress and the present ($req requests)");
is(psql_row(q{SELECT last_error IS NULL AND last_error_at IS NULL AND last_success_at IS NOT NULL
	FROM qstash_archive_status WHERE server = 'cronsrv' AND kind = 'logs'}), 't',
	'a success clears the error');
archive_equals_mock($cmock, 'cronsrv', 'the cron job\'s archive');

# 6. A failure outside pg_cron raises the API's error with its SQLSTATE
QstashTest::ctl($mock, 'clearlog');
gen($mock, 'events', 1000, now_ms() - 10, 1, 'f');
QstashTest::ctl($mock, 'queue', '--path', '/v2/events', '--after', '3', '--status', '429',
	'--header', 'RateLimit-Limit: 1000', '--header', 'RateLimit-Remaining: 0',
	'--header', 'RateLimit-Reset: 1795003600');
my ($out, $err) = psql_err(q{CALL qstash_archive_logs('upstash', max_requests => 100)}, undef, undef,
	'VERBOSITY=verbose');
like($err, qr/ERROR:  QS002: daily rate limit of the Upstash API exceeded/, 'the run raises the 429 as QS002');
like($err, qr/HINT:  .*The 300 rows read before by this run \(4 requests\) are kept/, 'and says what it kept');
# an entry of the stopped window's end listed late: the run that finishes
# the window re-reads the overlap before it
my $wend = psql_row(q{SELECT (extract(epoch FROM window_to) * 1000)::bigint FROM qstash_archive_state
	WHERE server = 'upstash' AND kind = 'logs'});
mock_rows($mock, 'events', 'add', [ { time => $wend - 30_000, messageId => 'late6', state => 'DELIVERED',
	url => 'https://a.example.com/hook' } ]);
my $late_total = 0;
for (1 .. 3)
{
	# a budget that reads the whole overlap (with less, the overlap is read
	# newest first as far as the budget goes)
	($added, $req, $win, $cu) = run_logs('upstash', 400);
	$late_total += $added;
	last if $cu eq 't';
}
is($late_total, '701', 'the next runs read the other 700, and an entry listed late before the window\'s end');
is(psql_row(q{SELECT count(*) FROM qstash_log_archive WHERE message_id = 'late6'}), '1', 'the late entry is archived');
($added, $req, $win, $cu) = run_logs('upstash', 100);
is("$added|$cu", '0|t', 'and the one after it is caught up');
archive_equals_mock($mock, 'upstash', 'after the failed run');

# 7. The DLQ history at 30 000 messages, 100 requests a run
mock_rows($mock, 'dlq', 'set', []);
gen($mock, 'dlq', 30_000, now_ms() - 1000, 1000, 'd');
my @dlq;
for (1 .. 5)
{
	push @dlq, psql_row(q{CALL qstash_archive_dlq('upstash', max_requests => 100)});
	last if $dlq[-1] =~ /\|t$/;
}
is(join(',', @dlq), '10000|0|0|f,10000|0|0|f,10000|0|0|t',
	'30 000 messages recorded in 3 runs of 100 requests, the pass complete');
is(psql_row(q{SELECT count(*) FROM qstash_dlq_history WHERE server = 'upstash' AND left_at IS NULL}),
	'30000', 'the history holds 30 000 messages');
my @gone = map { sprintf('d%06d', $_ * 300 + 7) } 0 .. 99;
mock_rows($mock, 'dlq', 'remove', \@gone);
@dlq = ();
for (1 .. 2)
{
	push @dlq, psql_row(q{CALL qstash_archive_dlq('upstash', max_requests => 100)});
}
is(join(',', @dlq), '0|10000|0|f,0|10000|0|f', '100 removed: nothing marked during the next pass');
is(psql_row(q{SELECT count(*) FROM qstash_dlq_history WHERE left_at IS NOT NULL}), '0', 'none marked early');
is(psql_row(q{CALL qstash_archive_dlq('upstash', max_requests => 100)}), '0|9900|100|t',
	'the pass completes: 100 gone');
is(psql_row(q{SELECT string_agg(dlq_id, ',' ORDER BY dlq_id) FROM qstash_dlq_history WHERE left_at IS NOT NULL}),
	join(',', sort @gone), 'exactly the removed messages are marked as gone');
my $first = psql_row(q{SELECT first_seen FROM qstash_dlq_history WHERE dlq_id = 'd000007'});
mock_rows($mock, 'dlq', 'add', [ { dlqId => 'd000007', messageId => 'msg_d000007', createdAt => now_ms() - 5,
	url => 'https://a.example.com/hook', method => 'POST', body => '{}', responseStatus => 500 } ]);
@dlq = ();
for (1 .. 4)
{
	push @dlq, psql_row(q{CALL qstash_archive_dlq('upstash', max_requests => 100)});
	last if $dlq[-1] =~ /\|t$/;
}
is($dlq[-1], '0|9901|0|t', 'a message that came back is seen again in the next pass, none gone');
is(psql_row(q{SELECT left_at IS NULL, first_seen = '} . $first . q{' FROM qstash_dlq_history WHERE dlq_id = 'd000007'}),
	't|t', 'it is present again (left_at cleared), first seen as before');
is(psql_row(q{SELECT count(*) FROM qstash_dlq_history WHERE left_at IS NOT NULL}), '99', 'the other 99 stay gone');
QstashTest::ctl($mock, 'clearlog');
QstashTest::ctl($mock, 'queue', '--path', '/v2/dlq', '--status', '503');
($out, $err) = psql_err(q{CALL qstash_archive_dlq('upstash', max_requests => 5)});
is(QstashTest::requests($mock), 1, 'the DLQ run makes no retries: a 503 ends it after 1 request');
like($err, qr/ERROR:  .*503/, 'and raises it');
($out, $err) = psql_err(q{SELECT qstash_archive_dlq('upstash')});
like($err, qr/ERROR:  qstash_archive_dlq\(unknown\) is a procedure.*HINT:  To call a procedure, use CALL/s,
	'0.2.0\'s SELECT qstash_archive_dlq() says to CALL it');

# 8. pg_dump -Fc, restored into a new database and into a new cluster: the
# archive goes on there, with no error, no gap and no duplicate
psql_row(q{DROP EXTENSION pg_cron}) if $no_cron eq '';
my $dump = "$dir/archive.dump";
IPC::Run::run([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], '2>', \$err)
  or die "pg_dump: $err";
psql_row(q{CREATE DATABASE restored});
IPC::Run::run([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], '>', \$out, '2>', \$err);
is($err, '', 'pg_restore into a new database: no error');
my $node2 = PostgreSQL::Test::Cluster->new('restored');
$node2->init;
$node2->start;
IPC::Run::run([ 'pg_restore', '-d', $node2->connstr('postgres'), $dump ], '>', \$out, '2>', \$err);
is($err, '', 'pg_restore into a new cluster: no error');
my $expect = psql_row(q{SELECT count(*) FROM qstash_log_archive WHERE server = 'upstash'}) + 500;
gen($mock, 'events', 500, now_ms() - 5, 1, 'r');
for my $target ([ $node, 'restored' ], [ $node2, 'postgres' ])
{
	my ($n, $db) = @$target;
	($out, $err) = psql_err(q{CALL qstash_archive_logs('upstash', max_requests => 300)}, $n, $db);
	is($err, '', "the restored archive ($db, " . $n->name . ') goes on with no error');
	like($out, qr/\|t$/, 'and catches up');
}
for my $target ([ $node, 'restored' ], [ $node2, 'postgres' ])
{
	my ($n, $db) = @$target;
	is($n->safe_psql($db, q{SELECT count(*), count(DISTINCT (message_id, state, "time")),
		count(*) FILTER (WHERE message_id LIKE 'r%') FROM qstash_log_archive WHERE server = 'upstash'}),
		"$expect|$expect|500", "restored ($db, " . $n->name . '): the dumped entries and the 500 new ones, none twice');
	archive_equals_mock($mock, 'upstash', "restored ($db, " . $n->name . ')', $n, $db);
}
$node2->stop;

# 9. Review findings
# an operator in the caller's search_path is not used by the procedures
psql_row(q{
	CREATE ROLE arch LOGIN;
	GRANT CREATE ON SCHEMA public TO arch;
	SET ROLE arch;
	CREATE FUNCTION public.evil_minus(a bigint, b bigint) RETURNS bigint LANGUAGE plpgsql AS $$
	BEGIN EXECUTE 'ALTER ROLE arch SUPERUSER'; RETURN 0; END $$;
	CREATE OPERATOR public.- (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.evil_minus);
	CREATE FUNCTION public.evil_mul(i interval, n integer) RETURNS interval LANGUAGE plpgsql AS $$
	BEGIN EXECUTE 'ALTER ROLE arch SUPERUSER'; RETURN i; END $$;
	CREATE OPERATOR public.* (LEFTARG = interval, RIGHTARG = integer, FUNCTION = public.evil_mul);
	RESET ROLE;
});
psql_row(q{SET search_path = public, pg_catalog; CALL qstash_archive_logs('upstash', max_requests => 3);
	CALL qstash_archive_dlq('upstash', max_requests => 3)});
is(psql_row(q{SELECT rolsuper FROM pg_roles WHERE rolname = 'arch'}), 'f',
	'an operator in the caller\'s search_path is not used by the procedures');

# a server dropped and created again under the archived name, in this database
$node->safe_psql('postgres', qq{
	DROP SERVER cronsrv CASCADE;
	CREATE SERVER cronsrv FOREIGN DATA WRAPPER qstash_fdw
	  OPTIONS (api_url '$cmock->{url}', qstash_url '$cmock->{url}');
	CREATE USER MAPPING FOR CURRENT_USER SERVER cronsrv
	  OPTIONS (email '$cmock->{email}', api_key '$cmock->{key}', token '$cmock->{token}')});
($out, $err) = psql_err(q{CALL qstash_archive_logs('cronsrv')});
like($err, qr/ERROR:  server "cronsrv" was dropped and created again after its logs archive began/,
	'a server created again under an archived name is refused');
my ($hint) = $err =~ /go on with: (SELECT [^;]*);/;
ok(defined $hint && $hint =~ /qstash_archive_reset\('cronsrv', 'logs', since => '/, "the HINT says how to go on ($hint)");
psql_row($hint);
QstashTest::ctl($cmock, 'clearlog');
($out, $err) = psql_err(q{CALL qstash_archive_logs('cronsrv', max_requests => 100)});
is($err, '', 'after the HINT\'s reset, the archive goes on');
archive_equals_mock($cmock, 'cronsrv', 'cronsrv after the reset');

# windows within a run: only the first new window reaches back the
# overlap; each later one starts where the one before it ended
psql_row(q{UPDATE qstash_archive_state SET window_size = '2 minutes', archived_to = now() - interval '15 minutes'
	WHERE server = 'cronsrv' AND kind = 'logs'});
QstashTest::ctl($cmock, 'clearlog');
($added, $req, $win, $cu) = run_logs('cronsrv', 100, q{overlap => '3 minutes'});
my @w = map { /fromDate=(\d+)&toDate=(\d+)$/ ? ([ $1, $2 ]) : () }
  grep { !/cursor=/ } map { /^GET \/v2\/events\?(\S*)/ ? ($1) : () } split /\n/, QstashTest::ctl($cmock, 'log');
my $chained = scalar(@w) >= 2;
for my $k (1 .. $#w)
{
	$chained &&= $w[$k][0] == $w[ $k - 1 ][1];
}
ok($chained && $w[0][1] - $w[0][0] > 180_000,
	scalar(@w) . ' windows: the first reaches back 3 minutes, each later one starts where the one before ended');

# a page that would never end its window: the cursor it was asked with
# comes back; recorded and raised (QS042), the run stops there
QstashTest::ctl($cmock, 'clearlog');
QstashTest::ctl($cmock, 'queue', '--path', '/v2/events', '--times', '3',
	'--body', '{"events": [], "cursor": "5-5"}');
($out, $err) = psql_err(q{CALL qstash_archive_logs('cronsrv', max_requests => 50, overlap => '0')}, undef, undef,
	'VERBOSITY=verbose');
like($err, qr/ERROR:  QS042: the API returned a page the logs archive of server "cronsrv" has read before/,
	'a cursor that comes back for itself stops the run (QS042)');
is(QstashTest::requests($cmock), 2, 'after 2 requests');
is(psql_row(q{SELECT last_error LIKE 'the API returned a page%' FROM qstash_archive_status
	WHERE server = 'cronsrv' AND kind = 'logs'}), 't', 'the status shows it');
QstashTest::ctl($cmock, 'clearlog');
psql_row(q{SELECT qstash_archive_reset('cronsrv', 'logs', since => (SELECT archived_to FROM qstash_archive_status
	WHERE server = 'cronsrv' AND kind = 'logs'))});
($out, $err) = psql_err(q{CALL qstash_archive_logs('cronsrv', max_requests => 50)});
is($err, '', 'after the HINT\'s reset the archive goes on');

# progress edited into values no run writes: an error that names the
# column and the reset, recorded; a huge budget is no overflow
psql_row(q{UPDATE qstash_archive_state SET window_size = '-1 day' WHERE server = 'cronsrv' AND kind = 'logs'});
($out, $err) = psql_err(q{CALL qstash_archive_logs('cronsrv', max_requests => 2000000000)});
like($err, qr/ERROR:  the progress of the logs archive of server "cronsrv" is invalid\nDETAIL:  Column window_size of qstash_archive_state holds a value no run writes\.\nHINT:  Start afresh with: SELECT public.qstash_archive_reset\('cronsrv', 'logs'\);/,
	'a negative window_size is an error that names it and the reset');
is(psql_row(q{SELECT last_error LIKE 'the progress of the logs archive%' FROM qstash_archive_status
	WHERE server = 'cronsrv' AND kind = 'logs'}), 't', 'recorded in the status');
psql_row(q{UPDATE qstash_archive_state SET window_size = '1 hour' WHERE server = 'cronsrv' AND kind = 'logs'});
($out, $err) = psql_err(q{CALL qstash_archive_logs('cronsrv', max_requests => 2000000000)});
is($err, '', 'max_requests => 2000000000 runs');

# statement_timeout during a run: the pages read are kept, the cancel is
# recorded, then raised (57014)
QstashTest::ctl($cmock, 'clearlog');
QstashTest::ctl($cmock, 'queue', '--path', '/v2/events', '--after', '2', '--delay-ms', '4000');
gen($cmock, 'events', 1000, now_ms() - 10, 1, 't');
IPC::Run::run([ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c', q{SET statement_timeout = '1500ms'},
	'-c', q{CALL qstash_archive_logs('cronsrv', max_requests => 50)} ], '>', \$out, '2>', \$err);
like($err, qr/ERROR:  canceling statement due to statement timeout/, 'statement_timeout cancels the run');
is(psql_row(q{SELECT last_error, last_run_requests, (SELECT count(*) FROM qstash_log_archive
	WHERE server = 'cronsrv' AND message_id LIKE 't%') FROM qstash_archive_status
	WHERE server = 'cronsrv' AND kind = 'logs'}),
	'canceling statement due to statement timeout|3|200',
	'the 2 pages read before are kept, and the cancel recorded (the cancelled request counted: it reached the API)');
is(QstashTest::requests($cmock), 3, 'the run\'s count of requests is what the mock received');

# a larger backfill later: a NOTICE, and the one call that extends it
($out, $err) = psql_err(q{CALL qstash_archive_logs('cronsrv', max_requests => 1, backfill => '30 days')});
like($err, qr/NOTICE:  the log archive of server "cronsrv" began at .*: backfill reaches before it and is not read/,
	'a larger backfill later is not silently ignored');
like($err, qr/HINT:  To read from .* on, run once: SELECT public.qstash_archive_reset\('cronsrv', 'logs', since => /,
	'the NOTICE says how to extend it');
psql_row(q{SELECT qstash_archive_reset('cronsrv', 'logs', since => now() - interval '30 days')});
is(psql_row(q{SELECT archived_from <= now() - interval '30 days' FROM qstash_archive_status
	WHERE server = 'cronsrv' AND kind = 'logs'}), 't', 'qstash_archive_reset(since => ...) extends it');

# a reset while a run reads: the run stops with a NOTICE, nothing re-read.
# The reset comes while the run's first request waits for its answer.
QstashTest::ctl($cmock, 'clearlog');
QstashTest::ctl($cmock, 'queue', '--path', '/v2/events', '--delay-ms', '2000', '--body', '{"events": []}');
my ($ro, $re) = ('', '');
my $h = IPC::Run::start([ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c',
	q{CALL qstash_archive_logs('cronsrv', max_requests => 50)} ], '>', \$ro, '2>', \$re);
my $wait_until = time() + 60;
usleep(50_000) while !@{ QstashTest::request_log($cmock) } && time() < $wait_until;
my $reset_at = time();
psql_row(q{SELECT qstash_archive_reset('cronsrv', 'logs')});
my $reset_done = time();
$h->finish;
like($re, qr/NOTICE:  the progress of the logs archive of server "cronsrv" was reset during the run/,
	'a reset during a run stops it with a NOTICE');
# The reset waits for the progress row, which a step holds during its
# request; the run's next step may take the row first (as often as the
# scheduler lets it: several times on a loaded machine).  What the code
# guarantees: once the reset has committed, every step finds the row gone
# and stops, so the mock receives no request after the reset returned.
my @sent = map { $_->{t} } @{ QstashTest::request_log($cmock) };
my $late = grep { $_ > $reset_done } @sent;
my $waited = grep { $_ > $reset_at && $_ <= $reset_done } @sent;
is($late, 0, 'it stops once the reset is done: no request after it (' . scalar(@sent)
	  . " requests, $waited of them while the reset waited)");

$node->stop;
QstashTest::stop_mock($mock);
QstashTest::stop_mock($cmock);
done_testing();
