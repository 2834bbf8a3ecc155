#!/bin/sh
# run.sh - issue 6's benchmark: ours side by side with the tools users
# would pick instead (sqlite3, datamash, mlr, Prometheus), on the same
# generated ticks, each workload run alternately, several times.
#
# usage: BUILD=build sh tests/bench/run.sh [quick|full]
#   quick: 1,000 pairs x 1,440 minutes (1.44M ticks), 5 runs each
#   full:  10,000 pairs x 1,440 minutes (14.4M ticks), 3 runs each
#   smoke: 50 pairs, 2 runs each: a quick test of the harness itself
# The 7-day window of workload 3 gets a store of its own holding 10,080
# minutes of the same pairs.  The table goes to standard output and to
# $BUILD/bench-SIZE.txt; progress to standard error.  BENCH_KEEP=1 keeps
# the scratch directory.  Nothing listens or connects beyond 127.0.0.1.
set -u
size=${1:-quick}
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in
/*)	b=$BUILD ;;
*)	b=$top/$BUILD ;;
esac
case $size in
quick)	P=1000 M=1440 R=5 ;;
full)	P=10000 M=1440 R=3 ;;
smoke)	P=50 M=1440 R=2 ;;	# a test of the harness itself
*)	echo "usage: run.sh [quick|full|smoke]" >&2
	exit 64 ;;
esac
M7=10080	# minutes in the 7-day store
RT=21		# runs of the millisecond workload 4
N=$((P * M))
export LC_ALL=C
bench="python3 $top/tests/bench/bench.py"
tab=$(printf '\t')

say() {
	echo "bench: $*" >&2
}

# The peers, from Debian, when missing.  No service may start on
# install (Debian's prometheus package would listen on all interfaces):
# a policy-rc.d that forbids it is put in place for the install only.
need=
command -v sqlite3 >/dev/null || need="$need sqlite3"
command -v datamash >/dev/null || need="$need datamash"
command -v mlr >/dev/null || need="$need miller"
command -v promtool >/dev/null && command -v prometheus >/dev/null ||
    need="$need prometheus"
command -v curl >/dev/null || need="$need curl"
command -v python3 >/dev/null || need="$need python3"
if [ -n "$need" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing commands; as root run:" >&2
		echo "  apt-get install --no-install-recommends$need" >&2
		exit 1
	fi
	say "installing:$need"
	prc=/usr/sbin/policy-rc.d
	made=
	if [ ! -e $prc ]; then
		printf '#!/bin/sh\nexit 101\n' > $prc && chmod 755 $prc &&
		    made=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq \
	    --no-install-recommends $need; } >/dev/null
	rc=$?
	[ -n "$made" ] && rm -f $prc
	[ $rc -eq 0 ] || { echo "bench: apt-get failed" >&2; exit 1; }
fi

# Our tools and the test tools the harness needs (the bench target of
# the Makefile builds the commands and genticks only).
make -s BUILD="$BUILD" "$BUILD/tools/genticks" "$BUILD/tools/jsoncparse" \
    "$BUILD/tools/lmdbfloor" "$BUILD/tools/peakrss" \
    "$BUILD/tools/benchrun" || exit 1
for c in coinstore coinstddev coinrank tools/genticks tools/benchrun; do
	[ -x "$b/$c" ] || { echo "bench: no $b/$c" >&2; exit 1; }
done
gen=$b/tools/genticks
export BENCHRUN="$b/tools/benchrun"

T=$(mktemp -d "${TMPDIR:-/tmp}/coinbench.XXXXXX") || exit 1
ppid=
cleanup() {
	if [ -n "$ppid" ]; then
		kill "$ppid" 2>/dev/null
		wait "$ppid" 2>/dev/null
		ppid=
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
log=$T/log
checks=$T/checks
out=$b/bench-$size.txt
: > "$log"
: > "$checks"

# m WORKLOAD TOOL ROWS OUT [--pid PID] CMD: one timed run.
m() {
	sync
	$bench measure "$log" "$@"
}

now_s() {
	date +%s.%N
}

# The machine, at the top.
cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")
disk=$(df -h "$T" | awk 'NR == 2 { print $4 " free of " $2 " on " $1 }')
E=$(( $(date +%s) / 60 * 60 ))
{
	echo "coin toolkit benchmark (issue 6): $size, $P pairs x $M" \
	    "minutes = $N ticks, $R runs each"
	echo "machine: $(nproc) cores, $cpu, $mem GiB RAM, $os," \
	    "kernel $(uname -r)"
	echo "disk: $disk (scratch $T)"
	echo "peers: sqlite3 $(sqlite3 --version | cut -d' ' -f1)," \
	    "datamash $(datamash --version | head -1 | awk '{print $NF}')," \
	    "mlr $(mlr --version | awk '{print $NF}')," \
	    "prometheus $(prometheus --version 2>&1 | head -1 | \
	    awk '{print $3}'), json-c $(pkg-config --modversion json-c \
	    2>/dev/null || echo '?')"
	echo "data: genticks -p $P -m $M -e $E (ends $(date -u -d @$E \
	    +%Y-%m-%dT%H:%MZ)); reproduce: make bench BENCH=$size"
	src=$(git -C "$top" rev-parse --short HEAD 2>/dev/null) &&
	    { git -C "$top" diff-index --quiet HEAD -- cmd libcoin \
	    2>/dev/null || src="$src with local changes to cmd/, libcoin/"; }
	echo "source: ${src:-unknown}; load average at start:" \
	    "$(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine" \
	    "disturbs the timings)"
} > "$T/header"

say "generating $N ticks"
t0=$(now_s)
"$gen" -p $P -m $M -e $E > "$T/ticks.ndjson" || exit 1
t1=$(now_s)
"$gen" -p $P -m $M -e $E -f tsv > "$T/ticks.tsv" || exit 1
"$gen" -p $P -m $M -e $E -f om > "$T/ticks.om" || exit 1
echo "genticks: $N NDJSON ticks in $(echo "$t0 $t1" | \
    awk '{ printf "%.2f", $2 - $1 }') s" >> "$T/header"
tee "$out" < "$T/header"
echo | tee -a "$out"

# ---------------------------------------------------------------- 1
w="1 ingest"
cat > "$T/import.sql" <<EOF
CREATE TABLE ticks(pair TEXT NOT NULL, ts INTEGER NOT NULL,
    price REAL NOT NULL);
.mode tabs
.import $T/ticks.tsv ticks
CREATE INDEX ticks_pair_ts ON ticks(pair, ts, price);
EOF
i=0
while [ $i -lt $R ]; do
	i=$((i + 1))
	say "$w: run $i of $R"
	rm -rf "$T/store"
	m "$w" "coinstore -q" $N - \
	    "$b/coinstore -q --db $T/store $T/ticks.ndjson"
	rm -f "$T/ticks.sqlite"
	m "$w" "sqlite3 .import, index (pair,ts,price)" $N - \
	    "sqlite3 $T/ticks.sqlite < $T/import.sql"
	m "$w" "json-c parse alone (baseline)" $N - \
	    "$b/tools/jsoncparse $T/ticks.ndjson"
	rm -rf "$T/prom"
	m "$w" "promtool backfill (24h blocks)" $N - \
	    "promtool tsdb create-blocks-from openmetrics" \
	    "--max-block-duration=24h $T/ticks.om $T/prom"
done

# ---------------------------------------------------------------- 2
w="2 rank 24h"
S=$((E - 86400))
cat > "$T/rank.sql" <<EOF
SELECT pair, sqrt((sum(price * price) - sum(price) * sum(price) / count(*))
    / (count(*) - 1)) AS sd
FROM ticks WHERE ts > $S AND ts <= $E GROUP BY pair ORDER BY sd DESC;
EOF
printf 'global:\n  scrape_interval: 1m\nscrape_configs: []\n' > "$T/prom.yml"
port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
say "starting prometheus on 127.0.0.1:$port"
prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$port" --log.level=warn \
    > "$T/prom.log" 2>&1 &
ppid=$!
url="http://127.0.0.1:$port"
q="$url/api/v1/query?query=sort_desc(stddev_over_time(price%5B24h%5D))"
q="$q&time=$E"
i=0
until curl -sf "$url/-/ready" >/dev/null; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 $ppid 2>/dev/null; then
		echo "bench: prometheus did not start:" >&2
		cat "$T/prom.log" >&2
		exit 1
	fi
	sleep 0.2
done
curl -sf "$q" > /dev/null	# warm it
i=0
while [ $i -lt $R ]; do
	i=$((i + 1))
	say "$w: run $i of $R"
	m "$w" "coinstddev --all + coinrank" $N "$T/ours.rank" \
	    "$b/coinstddev --all --db $T/store > /dev/null &&" \
	    "$b/coinrank --db $T/store"
	m "$w" "sqlite3 GROUP BY, sums of squares" $N "$T/sqlite.rank" \
	    "sqlite3 -separator '$tab' $T/ticks.sqlite < $T/rank.sql"
	m "$w" "datamash -s -g1 sstdev 3 | sort" $N "$T/datamash.rank" \
	    "datamash -s -g 1 sstdev 3 < $T/ticks.tsv |" \
	    "sort -t '$tab' -k2,2gr"
	m "$w" "mlr stats1 stddev (TSV) then sort" $N "$T/mlr.rank" \
	    "mlr --inidx --ifs tab --otsv stats1 -a stddev -f 3 -g 1" \
	    "then sort -nr 3_stddev $T/ticks.tsv"
	m "$w" "prometheus stddev_over_time (warm)" $N "$T/prom.rank" \
	    --pid $ppid "curl -s '$q'"
done
kill $ppid
wait $ppid 2>/dev/null
ppid=
# Prometheus' stddev is the population one: compare it with ours.
say "$w: cross-checks"
"$b"/coinstddev --all --population --db "$T/store" > "$T/ours.pop"
"$b"/coinstddev --all --db "$T/store" > /dev/null	# the sample one again
$bench check "$checks" "$w" "sqlite3 GROUP BY, sums of squares" \
    coin "$T/ours.rank" tsv "$T/sqlite.rank"
$bench check "$checks" "$w" "datamash -s -g1 sstdev 3 | sort" \
    coin "$T/ours.rank" tsv "$T/datamash.rank"
$bench check "$checks" "$w" "mlr stats1 stddev (TSV) then sort" \
    coin "$T/ours.rank" tsvh "$T/mlr.rank"
$bench check "$checks" "$w" "prometheus stddev_over_time (warm)" \
    stats "$T/ours.pop" prom "$T/prom.rank"

# ---------------------------------------------------------------- 4
w="4 top 10"
say "$w: a 10-pair store"
"$gen" -p 10 -m $M -e $E | "$b"/coinstore -q --db "$T/small" &&
    "$b"/coinstddev --all --db "$T/small" > /dev/null || exit 1
head -n 10 "$T/ours.rank" > "$T/ours.top"
i=0
while [ $i -lt $RT ]; do
	i=$((i + 1))
	m "$w" "coinrank --top 10, $P pairs" 10 "$T/top.big" \
	    "$b/coinrank --top 10 --db $T/store"
	m "$w" "coinrank --top 10, 10 pairs" 10 "$T/top.small" \
	    "$b/coinrank --top 10 --db $T/small"
done
$bench check "$checks" "$w" "coinrank --top 10, $P pairs" \
    coin "$T/ours.top" coin "$T/top.big"

# ---------------------------------------------------------------- 5
# Anonymous memory (the store's mapped pages aside), with peakrss.
w="5 memory"
# a WORKLOAD TOOL ROWS OUT CMD...: one run under peakrss.
a() {
	_w=$1 _t=$2 _n=$3 _o=$4
	shift 4
	sync
	_t0=$(now_s)
	"$b"/tools/peakrss "$T/kib" "$@" > "$_o" ||
	    say "$_t: exit $?"
	_t1=$(now_s)
	$bench anon "$log" "$_w" "$_t" "$_n" "$T/kib" \
	    "$(echo "$_t0 $_t1" | awk '{ printf "%.6f", $2 - $1 }')"
}
say "$w: peaks of anonymous memory"
head -n $((N / 10)) "$T/ticks.ndjson" > "$T/ticks10.ndjson"
rm -rf "$T/s10" "$T/s100"
a "$w" "coinstore -q, 10% of the input" $((N / 10)) /dev/null \
    $b/coinstore -q --db "$T/s10" "$T/ticks10.ndjson"
a "$w" "coinstore -q, all of it" $N /dev/null \
    $b/coinstore -q --db "$T/s100" "$T/ticks.ndjson"
rm -rf "$T/s10" "$T/s100"
a "$w" "coinstddev --all, $P pairs" $N /dev/null \
    $b/coinstddev --all --db "$T/store"
a "$w" "coinrank, $P pairs" $P /dev/null $b/coinrank --db "$T/store"
a "$w" "coinrank --top 10, $P pairs" 10 /dev/null \
    $b/coinrank --top 10 --db "$T/store"

# ---------------------------------------------------------------- 3
# The minute's work: the next batch of P ticks into a store, through the
# job's pipeline, each run a minute later than the last, for windows of
# 1 hour and 24 hours (each on its own copy of the 24-hour store) and 7
# days (on a store of 7 days), run in turn so that the disk is in the
# same state for all three.  The first batch of each is a warm-up (the
# window changed: every pair's sums are rebuilt once).  Its floor, as
# issue 6 has it: one durable LMDB commit of P puts into a new
# environment.  And the floor for the store's layout: the same commit
# into an environment that holds P pairs x M minutes as the store holds
# its ticks (lmdbfloor -d: each pair's minutes sorted duplicates under
# it), where each put lands on a leaf page of its own.
w="3 minute"
say "3: a 7-day store, $P pairs x $M7 minutes"
t0=$(now_s)
"$gen" -p $P -m $M7 -e $E | "$b"/coinstore -q --db "$T/store7" || exit 1
t1=$(now_s)
say "3: stored $((P * M7)) ticks in $(echo "$t0 $t1" | \
    awk '{ printf "%.1f", $2 - $1 }') s"
nb=$((R + 1))
# The 24-hour store gets 64 minutes more, one after the other: the stage
# holds 64 minutes, so one of them merges it into the ticks.
NS=64
nb24=$((nb + NS))
"$gen" -p $P -m $((M7 + nb)) -e $((E + nb * 60)) | tail -n $((nb * P)) |
    split -l $P -d -a 3 - "$T/b7."
"$gen" -p $P -m $((M + nb24)) -e $((E + nb24 * 60)) |
    tail -n $((nb24 * P)) | split -l $P -d -a 3 - "$T/b24."
cp -R "$T/store" "$T/store24"
say "3: an LMDB environment of $P x $M keys for the floor"
"$b"/tools/lmdbfloor -d -n $P -m $M "$T/floorm" > /dev/null || exit 1
sync
# job WINDOW DB BATCH [TOOL [OUT]]: one batch through the pipeline,
# timed when TOOL is given.
job() {
	_c="$b/coinstore --db $2 < $3 | $b/coinstddev --window $1 --db $2 |"
	_c="$_c $b/coinrank -"
	if [ $# -lt 4 ]; then
		sh -c "$_c" > /dev/null
	else
		m "$w" "$4" $P "${5:-$T/minute.$1}" "$_c"
	fi
}
say "$w: warm-up"
job 1h "$T/store" "$T/b24.000"
job 24h "$T/store24" "$T/b24.000"
job 7d "$T/store7" "$T/b7.000"
i=0
while [ $i -lt $R ]; do
	i=$((i + 1))
	say "$w: run $i of $R"
	f=$(printf '%03d' $i)
	job 1h "$T/store" "$T/b24.$f" \
	    "coinstore | coinstddev | coinrank -, 1h"
	job 24h "$T/store24" "$T/b24.$f" \
	    "coinstore | coinstddev | coinrank -, 24h"
	job 7d "$T/store7" "$T/b7.$f" \
	    "coinstore | coinstddev | coinrank -, 7d (7-day store)"
	rm -rf "$T/floor"
	m "$w" "lmdbfloor: $P puts, new env" $P \
	    "$T/floor.out" "$b/tools/lmdbfloor -n $P $T/floor"
	m "$w" "lmdbfloor -d: $P puts, env of $P x $M ticks" $P \
	    "$T/floor.out" "$b/tools/lmdbfloor -d -n $P $T/floorm"
done
# Then 64 minutes in a row into the 24-hour store: the median, the mean
# and the dearest of them (the merge of the stage), in the table.
say "$w: $NS minutes in a row (24h)"
while [ $i -lt $((R + NS)) ]; do
	i=$((i + 1))
	job 24h "$T/store24" "$T/b24.$(printf '%03d' $i)" \
	    "$NS minutes in a row: coinstore | coinstddev | coinrank -, 24h" \
	    "$T/minute.row"
done
# The incremental stats against a rebuild of all pairs at that ts.
ts=$(sed -n '1s/.*"ts":\([0-9]*\).*/\1/p' "$T/b24.$f")
for x in "1h $T/store 1h" "24h $T/store24 24h" \
    "7d $T/store7 7d (7-day store)"; do
	set -- $x
	win=$1 db=$2
	shift 2
	$b/coinstddev --all --at "$ts" --window $win --db "$db" \
	    > "$T/minute.all"
	$bench check "$checks" "$w" \
	    "coinstore | coinstddev | coinrank -, $*" \
	    stats "$T/minute.all" coin "$T/minute.$win"
done
rm -rf "$T/store7" "$T/store24" "$T"/b24.* "$T"/b7.*

# ---------------------------------------------------------------- table
say "done"
{
	$bench table "$log" "$checks" "$size"
	echo
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$out"
echo "(also in $out)" >&2
