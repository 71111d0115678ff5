# Benchmark: 8 concurrent sessions (pgbench) calling qstash_users(), with
# and without shared_preload_libraries = 'qstash', against the bundled mock:
# throughput and the requests the mock saw.  Run by test/bench/run (which
# sets up the environment); BENCH_SHARED_SECONDS (default 10) per case.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../t";

use File::Temp qw(tempdir);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use QstashTest;
use IPC::Run;
use Test::More;

# PostgreSQL::Test::Utils sends STDOUT to its log: print through the
# builder's handle, which also reaches the terminal; no test, no verdict
my $tty = Test::More->builder->output;
Test::More->builder->no_ending(1);

my $secs = $ENV{BENCH_SHARED_SECONDS} // 10;
my $dir = tempdir(CLEANUP => 1);
my $mock = QstashTest::start_mock();
my $file = "$dir/call.sql";
open(my $fh, '>', $file) or die;
print $fh "SELECT count(*) FROM qstash_users();\n";
close($fh);

my @rows;
for my $preload (1, 0)
{
	my $node = PostgreSQL::Test::Cluster->new($preload ? 'bench_shared' : 'bench_plain');
	$node->init;
	$node->append_conf('postgresql.conf',
		"max_connections = 40\n" . ($preload ? "shared_preload_libraries = 'qstash'\n" : ''));
	$node->start;
	QstashTest::setup_node($node, $mock);
	for my $ttl (60, 0)
	{
		QstashTest::ctl($mock, 'reset');
		my ($out, $err) = ('', '');
		local $ENV{PGOPTIONS} = "-c qstash.cache_ttl=$ttl";
		IPC::Run::run([ 'pgbench', '-n', '-c', '8', '-j', '8', '-T', $secs, '-f', $file,
				'-h', $node->host, '-p', $node->port, 'postgres' ], '>', \$out, '2>', \$err)
		  or die "pgbench: $err";
		my ($tps) = $out =~ /tps = ([0-9.]+)/;
		my ($n) = $out =~ /number of transactions actually processed: (\d+)/;
		push @rows, [ $preload ? 'preloaded' : 'not preloaded', $ttl, $n, $tps,
			QstashTest::requests($mock) ];
	}
	$node->stop;
}
QstashTest::stop_mock($mock);

print $tty "\n| shared_preload_libraries | cache_ttl | calls ($secs s, 8 sessions) | calls/s | requests to the API |\n";
print $tty "|---|---|---|---|---|\n";
# (the tee has no printf)
print $tty sprintf("| %s | %d | %d | %.0f | %d |\n", @$_) for @rows;
print $tty sprintf("\npreloaded / not preloaded, calls/s: cache_ttl 60: %.2f; cache_ttl 0: %.2f\n",
	$rows[0][3] / $rows[2][3], $rows[1][3] / $rows[3][3]);
print $tty "shared bench: ok\n";
