# The README cannot rot: every ```sql block of README.md runs as written,
# in order, on a fresh cluster with shared_preload_libraries =
# 'pg_cron,qstash' (test/readme_sql.py replaces the placeholders with the
# mock's address and credentials); the reporting role it creates then reads
# every read-only object; and its errors table lists every SQLSTATE the
# sources raise.  Without pg_cron, only the errors table is checked.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use QstashTest;
use Test::More;
use IPC::Run;

my $root = "$FindBin::Bin/../..";
my $readme = slurp_file("$root/README.md");

# 1. the errors table and the SQLSTATEs of the sources
my ($errors) = $readme =~ /\n## Errors\n(.*?)\n## /s;
ok(defined $errors, 'README.md has an Errors section');
my %documented;
for my $row (split /\n/, $errors // '')
{
	next unless $row =~ /^\|/;
	my (undef, undef, $code) = split /\s*\|\s*/, $row;
	$documented{$1} = 1 while defined $code && $code =~ /`([0-9A-Z]{5})`/g;
}

# ERRCODE_* macros: PostgreSQL's and the extension's own
my $incdir = `pg_config --includedir-server`;
chomp $incdir;
my %sqlstate;
for my $h ("$incdir/utils/errcodes.h", "$root/src/errors.h")
{
	for (split /\n/, slurp_file($h))
	{
		$sqlstate{$1} = join('', $2, $3, $4, $5, $6)
		  if /#define (ERRCODE_\w+)\s+MAKE_SQLSTATE\('(.)',\s*'(.)',\s*'(.)',\s*'(.)',\s*'(.)'\)/;
	}
}
ok(scalar(keys %sqlstate) > 200, 'read the SQLSTATE macros');

# what the C sources raise, and what the install scripts' PL/pgSQL raises
my %raised;
for my $f (glob("$root/src/*.c"))
{
	my $text = slurp_file($f);
	while ($text =~ /\b(ERRCODE_\w+)/g)
	{
		die "unknown $1 in $f" unless $sqlstate{$1};
		$raised{ $sqlstate{$1} } .= " $1";
	}
}
for my $f (glob("$root/src/sql/*.sql $root/src/sql/released/*.sql"))
{
	my $text = slurp_file($f);
	while ($text =~ /ERRCODE = '([a-z_]+)'/g)
	{
		my $macro = 'ERRCODE_' . uc($1);
		die "unknown condition $1 in $f" unless $sqlstate{$macro};
		$raised{ $sqlstate{$macro} } .= " $macro";
	}
}
for my $code (sort keys %raised)
{
	ok($documented{$code}, "the errors table lists $code ($raised{$code} )");
}
# and lists nothing else, but for what PostgreSQL raises on our behalf
my %postgres_own = ('57014' => 'query cancel', '22P02' => 'a type input function');
for my $code (sort keys %documented)
{
	ok($raised{$code} || $postgres_own{$code}, "$code of the errors table is raised");
}

# 2. every SQL block, in order, on a fresh cluster (they set up pg_cron:
# without it, as in a private build that could not get it, this part skips)
my $no_cron = QstashTest::no_cron_reason();
if ($no_cron ne '')
{
	SKIP: { skip($no_cron, 4); }
	done_testing();
	exit 0;
}
my $mock = QstashTest::start_mock();
# (the examples must be right in any time zone)
my $node = QstashTest::cron_node('readme', 0, 'qstash', "timezone = 'America/Los_Angeles'\n");

my ($script, $err) = ('', '');
IPC::Run::run([ 'python3', "$root/test/readme_sql.py", "$root/README.md",
		'--url', $mock->{url}, '--email', $mock->{email},
		'--api-key', $mock->{key}, '--token', $mock->{token} ],
	'>', \$script, '2>', \$err)
  or die "readme_sql.py: $err";
my ($nblocks) = $script =~ /== (\d+) blocks/;
cmp_ok($nblocks, '>=', 15, "README.md has $nblocks SQL blocks");

my $file = $node->basedir . '/readme.sql';
open(my $fh, '>', $file) or die;
print $fh $script;
close($fh);
my ($ret, $out, $stderr) = $node->psql('postgres', '',
	extra_params => [ '-v', 'ON_ERROR_STOP=1', '-f', $file ]);
my ($last) = $out =~ /.*(== README\.md line \d+)/s;
is($ret, 0, 'every SQL block of README.md runs as written')
  or diag("stopped after: $last\n$stderr");
like($out, qr/== $nblocks blocks/, 'all of them ran');

# 3. the reporting role of the README reads every read-only object: the
# functions, the extension's tables and views, every foreign table
my $objects = $node->safe_psql('postgres', q{
	SELECT c.oid::regclass FROM pg_class c
	  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
	  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'qstash'
	 WHERE c.relkind IN ('r', 'v')
	UNION ALL
	SELECT t.ftrelid::regclass FROM pg_foreign_table t
	ORDER BY 1});
my @reads = map { "SELECT count(*) FROM $_" } split /\n/, $objects;
push @reads, map { "SELECT count(*) FROM $_()" } qw(qstash_users qstash_ipv4 qstash_stats
  qstash_stats_summary qstash_logs qstash_dlq qstash_schedules qstash_queues
  qstash_url_groups qstash_flow_control qstash_global_parallelism);
($ret, $out, $stderr) = $node->psql('postgres',
	join(";\n", 'SET ROLE reporting', @reads) . ';',
	extra_params => [ '-v', 'ON_ERROR_STOP=1' ]);
is($ret, 0, 'the reporting role of the README reads ' . scalar(@reads) . ' objects')
  or diag($stderr);

$node->stop;
QstashTest::stop_mock($mock);
done_testing();
