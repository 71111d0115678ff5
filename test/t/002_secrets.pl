# Over a whole fault run with log_min_messages = debug5, neither the server
# log nor anything a client sees contains the api key, the email:key pair
# (plain or base64), the QStash REST token, an Authorization header, or a
# token from a response.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use MIME::Base64 qw(encode_base64);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use QstashTest;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('secrets');
$node->init;
# PostgreSQL::Test::Cluster logs every statement by default, and the DDL of
# a user mapping carries its key: that is PostgreSQL's logging, not ours.
$node->append_conf('postgresql.conf', "log_statement = none\n");
$node->start;
my $mock = QstashTest::start_mock();
QstashTest::setup_node($node, $mock);
# a second server whose mapping has a wrong key (for the 401 path)
$node->safe_psql('postgres', qq{
	CREATE SERVER wrong FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url '$mock->{url}');
	CREATE USER MAPPING FOR CURRENT_USER SERVER wrong
	  OPTIONS (email '$mock->{email}', api_key 'wrong-0123456789',
	           token 'wrongtok-0123456789');
	ALTER SERVER upstash OPTIONS (ADD qstash_url '$mock->{url}');
	ALTER SERVER wrong OPTIONS (ADD qstash_url '$mock->{url}');
	ALTER USER MAPPING FOR CURRENT_USER SERVER upstash OPTIONS (ADD token '$mock->{token}');
});
# Only now the debug5 log: PostgreSQL itself may log the text of the DDL
# above (as for any FDW); what is checked is what the extension emits.
$node->append_conf('postgresql.conf', qq{
log_min_messages = debug5
log_error_verbosity = verbose
});
$node->reload;

my $client = '';
sub run_sql
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET client_min_messages = debug5; $sql",
		extra_params => [ '-X' ]);
	$client .= $out . $err;
	return $ret;
}
sub queue { QstashTest::ctl($mock, 'queue', @_); }

# successes: functions, foreign tables, EXPLAIN, IMPORT
run_sql('SELECT * FROM qstash_users()');
run_sql(q{SELECT * FROM qstash_stats('7d')});
run_sql('SELECT * FROM qstash_ipv4()');
run_sql('CREATE SCHEMA r; IMPORT FOREIGN SCHEMA qstash FROM SERVER upstash INTO r');
run_sql('EXPLAIN (VERBOSE, ANALYZE) SELECT * FROM r.users WHERE id = \'99a4c327-31f0-490f-a594-043ade84085a\'');

# faults
queue('--status', '401', '--body', qq{{"error":"bad key $mock->{key}"}});
run_sql('SELECT * FROM qstash_users()');
queue('--status', '403', '--body', qq{{"error":"$mock->{email}:$mock->{key} denied"}});
run_sql('SELECT * FROM qstash_users()');
queue('--status', '500', '--body', 'oops', '--times', '2');
run_sql('SET qstash.max_retries = 1; SELECT * FROM qstash_users()');
queue('--status', '429', '--header', 'RateLimit-Limit: 10', '--header', 'RateLimit-Reset: 1795000000');
run_sql('SELECT * FROM qstash_users()');
queue('--status', '429', '--header', 'x-ratelimit-limit-requests: 10');
run_sql('SELECT * FROM qstash_users()');
queue('--status', '429');
run_sql('SET qstash.max_retries = 0; SELECT * FROM qstash_users()');
queue('--status', '302', '--header', 'Location: https://elsewhere.example/');
run_sql('SELECT * FROM qstash_users()');
queue('--body', '[{"id": ', '--times', '1');
run_sql('SELECT * FROM qstash_users()');
queue('--body', '[{"id": "x"}]', '--close-mid-body');
run_sql('SELECT * FROM qstash_users()');
queue('--delay-ms', '1000', '--body', '[]');
run_sql('SET qstash.timeout_ms = 100; SELECT * FROM qstash_users()');
run_sql(q{SELECT * FROM qstash_users('wrong')});

# the QStash REST API (Bearer token): paged listings, faults, a wrong token
run_sql('SELECT * FROM qstash_logs()');
run_sql('SELECT * FROM qstash_dlq(max_rows => 5)');
run_sql('SELECT * FROM qstash_schedules()');
queue('--path', '/v2/events', '--after', '1', '--status', '500',
	'--body', qq{{"error":"token $mock->{token} rejected"}});
run_sql('SET qstash.max_retries = 0; SELECT * FROM qstash_logs()');
queue('--path', '/v2/dlq', '--status', '429', '--header', "X-Echo: $mock->{token}");
run_sql('SELECT * FROM qstash_dlq()');
run_sql(q{SELECT * FROM qstash_queues('wrong')});
# paths that carry a credential (ids a query named): the DEBUG lines mask
# them as errors do
run_sql(qq{SELECT count(*) FROM qstash_dlq(dlq_id => 'id-$mock->{token}')});
run_sql(qq{SELECT count(*) FROM r.schedules WHERE schedule_id = '$mock->{token}'});
run_sql(qq{SELECT count(*) FROM r.users WHERE id = '00000000-0000-4000-8000-000000000000'
	UNION ALL SELECT count(*) FROM r.queues WHERE name = 'q$mock->{key}'});
run_sql(q{IMPORT FOREIGN SCHEMA qstash LIMIT TO (logs) FROM SERVER upstash INTO public;
	EXPLAIN (VERBOSE, ANALYZE) SELECT * FROM logs WHERE state = 'ERROR' LIMIT 5});

# user mappings the validator rejects: the statement carries the key, and
# stays out of the log (errhidestmt), as does a credential put on a server
run_sql(q{CREATE ROLE regress_rejected});
run_sql(q{CREATE USER MAPPING FOR regress_rejected SERVER upstash
	OPTIONS (email 'x@example.com', api_key 'rejected-key-0123456789',
	         token E'rejected-tok-0123456789\r\nX-Evil: 1')});
run_sql(q{CREATE USER MAPPING FOR regress_rejected SERVER upstash
	OPTIONS (api_key 'rejected-key-0123456789', bogus 'x')});
run_sql(q{CREATE USER MAPPING FOR regress_rejected SERVER upstash
	OPTIONS (api_key 'rejected-key-0123456789', email '')});
run_sql(q{ALTER USER MAPPING FOR CURRENT_USER SERVER upstash
	OPTIONS (SET api_key 'rejected-key-0123456789', ADD reveal_secrets 'maybe')});
run_sql(q{CREATE SERVER misplaced FOREIGN DATA WRAPPER qstash_fdw
	OPTIONS (api_key 'rejected-key-0123456789')});

$node->stop;
my $log = slurp_file($node->logfile);
like($log, qr/ERROR:  (?:\w{5}: )?invalid value for option "token"/, 'the log has the rejected mapping\'s error');
like($log, qr/ERROR:  (?:\w{5}: )?invalid option "bogus"/, 'and the others');
like($log, qr/ERROR:  (?:\w{5}: )?option "api_key" is not accepted on a server/, 'and the misplaced credential\'s');
cmp_ok(length($log), '>', 10000, 'the debug5 log was written');
like($log, qr/qstash: GET \/v2\/qstash\/users/, 'the log has the extension\'s own debug lines');
like($log, qr/qstash: GET \/v2\/events\?count=100&cursor=/, 'the log has the REST listing\'s pages');
like($log, qr{qstash: GET /v2/schedules/\*{10,} on server "upstash": ok, HTTP 404},
	'the log has the lookup of an id that is the token, masked');
like($log, qr{qstash: GET /v2/dlq\?count=100&dlqIds=id-\*{10,} }, 'and the listing by it');

my $pair = "$mock->{email}:$mock->{key}";
my $b64 = encode_base64($pair, '');
my %secrets = (
	'api key' => $mock->{key},
	'email:key' => $pair,
	'base64(email:key)' => $b64,
	'wrong api key' => 'wrong-0123456789',
	'REST token' => $mock->{token},
	'wrong REST token' => 'wrongtok-0123456789',
	'Authorization header' => 'Authorization:',
	'a token of a response' => 'ZmFrZS10b2tlbi1ldS1jZW50cmFsLTE=',
	'the key of a rejected mapping' => 'rejected-key-0123456789',
	'the token of a rejected mapping' => 'rejected-tok-0123456789');
for my $what (sort keys %secrets)
{
	my $s = $secrets{$what};
	ok(index($log, $s) < 0, "server log at debug5 has no $what");
	ok(index($client, $s) < 0, "client output has no $what");
}

QstashTest::stop_mock($mock);
done_testing();
