# Helpers for pg_qstash's TAP tests: the mock API and a node set up for it.
package QstashTest;

use strict;
use warnings;

use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IPC::Run;
use JSON::PP ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils ();
use Test::More ();
use Time::HiRes qw(usleep);

my $mockdir = dirname(__FILE__) . '/../mock';

# Start the mock on 127.0.0.1 with a random api key; returns a hash.
sub start_mock
{
	my $dir = tempdir(CLEANUP => 1);
	my $portfile = "$dir/port";
	my $key = 'tapkey-' . join('', map { sprintf('%02x', int(rand(256))) } 1 .. 12);
	my $email = 'tap@example.com';
	my $token = 'taptok-' . join('', map { sprintf('%02x', int(rand(256))) } 1 .. 12);
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		open(STDOUT, '>', '/dev/null');
		open(STDERR, '>', '/dev/null');
		exec('python3', "$mockdir/qstash_mock.py", '--port-file', $portfile,
			'--email', $email, '--api-key', $key, '--token', $token,
			'--lifetime', '900')
		  or die "exec: $!";
	}
	for (1 .. 200)
	{
		last if -s $portfile;
		usleep(50_000);
	}
	open(my $fh, '<', $portfile) or die "the mock did not start";
	my $port = <$fh>;
	close($fh);
	return { pid => $pid, url => "http://127.0.0.1:$port", email => $email,
		key => $key, token => $token };
}

sub stop_mock
{
	my ($mock) = @_;
	kill 'TERM', $mock->{pid};
	waitpid($mock->{pid}, 0);
}

# Run ctl.py against the mock; returns its output.
sub ctl
{
	my ($mock, @args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'python3', "$mockdir/ctl.py", '--url', $mock->{url}, @args ],
		'>', \$out, '2>', \$err)
	  or die "ctl.py @args: $err";
	return $out;
}

# Number of requests the mock has seen since its last reset.
sub requests
{
	my ($mock) = @_;
	my $out = ctl($mock, 'count');
	return $out =~ /requests=(\d+)/ ? $1 : -1;
}

# The requests the mock has seen since its last reset (or clearlog), in
# the order they arrived, whose path starts with $prefix (all without
# one): hashes with method, path, query and t, the time the mock received
# it (epoch seconds, the clock Time::HiRes::time reads).
sub request_log
{
	my ($mock, $prefix) = @_;
	my $res = HTTP::Tiny->new(timeout => 10)->get("$mock->{url}/_mock/log");
	die "GET /_mock/log: $res->{status} $res->{reason}" unless $res->{success};
	$prefix //= '';
	return [ grep { index($_->{path}, $prefix) == 0 } @{ JSON::PP::decode_json($res->{content}) } ];
}

# Why the PostgreSQL under test has no pg_cron, or '' when it has it
# (Debian has no package of it for a private build such as
# test/build-postgres's, which builds it from source when it can and
# otherwise leaves a note of why).
sub no_cron_reason
{
	my $pkglibdir = `pg_config --pkglibdir`;
	chomp $pkglibdir;
	return '' if -f "$pkglibdir/pg_cron.so";
	my $bindir = `pg_config --bindir`;
	chomp $bindir;
	my $note = "$bindir/../.qs-pg_cron-missing";
	my $why = -f $note ? PostgreSQL::Test::Utils::slurp_file($note) : '';
	chomp $why;
	return "pg_cron is not installed in $pkglibdir" . ($why ne '' ? ": $why" : '');
}

# A started node that runs pg_cron jobs (in background workers).  Without
# pg_cron, skips the whole test file; with $optional, a node without it.
# $preload: more libraries to preload after pg_cron; $conf: more settings.
sub cron_node
{
	my ($name, $optional, $preload, $conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	my $why = no_cron_reason();
	Test::More::plan(skip_all => $why) if $why ne '' && !$optional;
	$node->init;
	my $libs = join(',', 'pg_cron', $preload // ());
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = '$libs'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
} . ($conf // '')) if $why eq '';
	$node->start;
	return $node;
}

# The extension, a server aimed at the mock and a user mapping.
sub setup_node
{
	my ($node, $mock) = @_;
	$node->safe_psql('postgres', qq{
		CREATE EXTENSION qstash;
		CREATE SERVER upstash FOREIGN DATA WRAPPER qstash_fdw OPTIONS (api_url '$mock->{url}');
		CREATE USER MAPPING FOR CURRENT_USER SERVER upstash
		  OPTIONS (email '$mock->{email}', api_key '$mock->{key}');
	});
}

1;
