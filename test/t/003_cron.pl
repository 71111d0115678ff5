# A real pg_cron job snapshots stats into the history table; a job against a
# rate-limited server shows the 429 in cron.job_run_details; pg_dump dumps
# the history.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use QstashTest;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $node = QstashTest::cron_node('cron');

my $mock = QstashTest::start_mock();
my $limited = QstashTest::start_mock();
QstashTest::setup_node($node, $mock);
$node->safe_psql('postgres', qq{
	CREATE EXTENSION pg_cron;
	CREATE SERVER limited FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url '$limited->{url}');
	CREATE USER MAPPING FOR CURRENT_USER SERVER limited
	  OPTIONS (email '$limited->{email}', api_key '$limited->{key}');
});
# every request to the second mock hits the daily limit
QstashTest::ctl($limited, 'queue', '--status', '429', '--header', 'RateLimit-Limit: 1000',
	'--header', 'RateLimit-Remaining: 0', '--header', 'RateLimit-Reset: 1795003600',
	'--times', '20');

# the one-line set-up of the README
$node->safe_psql('postgres',
	q{SELECT cron.schedule('qstash-stats', '* * * * *', $$SELECT qstash_snapshot_stats('1h')$$)});
$node->safe_psql('postgres',
	q{SELECT cron.schedule('qstash-limited', '* * * * *', $$SELECT qstash_snapshot_stats('1h', 'limited')$$)});

# pg_cron starts jobs on minute boundaries: wait for one run of each (<= 150 s)
my $done = 0;
for (1 .. 1500)
{
	$done = $node->safe_psql('postgres',
		q{SELECT count(DISTINCT jobid) FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')});
	last if $done >= 2;
	usleep(100_000);
}
is($done, '2', 'both jobs ran');

my $details = $node->safe_psql('postgres', q{
	SELECT j.jobname, d.status, d.return_message
	  FROM cron.job_run_details d JOIN cron.job j USING (jobid)
	 ORDER BY j.jobname, d.start_time LIMIT 2});
note("cron.job_run_details:\n$details");
like($details, qr/^qstash-limited\|failed\|ERROR:\s+daily rate limit of the Upstash API exceeded on server "limited"/m,
	'a rate-limited run is recorded as failed with the QS002 message');
like($details, qr/^qstash-stats\|succeeded\|/m, 'the snapshot run succeeded');

is($node->safe_psql('postgres', 'SELECT count(*), count(DISTINCT qstash_id) FROM qstash_stats_history'),
	'1140|2', 'the job stored 1140 points of 2 instances');
is(QstashTest::requests($mock), 3, 'the job made 3 requests (the list and one per instance)');
is(QstashTest::requests($limited), 1, 'a daily 429 is not retried');

# the history belongs to the extension's configuration: pg_dump keeps it
my ($stdout, $stderr) = ('', '');
IPC::Run::run([ 'pg_dump', '-d', $node->connstr('postgres'), '--data-only', '--table', 'qstash_stats_history' ],
	'>', \$stdout, '2>', \$stderr);
my $rows = () = $stdout =~ /^[0-9a-f]{8}-[0-9a-f-]{27}\t/mg;
is($rows, 1140, 'pg_dump dumps the 1140 rows of qstash_stats_history');

$node->safe_psql('postgres', q{SELECT cron.unschedule('qstash-stats'); SELECT cron.unschedule('qstash-limited')});
$node->stop;
QstashTest::stop_mock($mock);
QstashTest::stop_mock($limited);
done_testing();
