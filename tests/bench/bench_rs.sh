#!/usr/bin/env bash
# rs ingest benchmark (not a test). Streams N records (default 200,000) with receipts
# into rs, once per backend, and prints records/s beside a raw reference on the same
# rows in the same run, the ratio, and rs's peak RSS:
#   SQLite:     tests/tools/sqlite_ref (prepared-statement loop, same schema, WAL,
#               synchronous=FULL, 5,000-row transactions)
#   PostgreSQL: COPY via psql of the very rows rs stored, into a plain copy of the cdr
#               table (its indexes, and id as primary key: the unique index rs keeps in
#               cdr_id since cdr is partitioned by month)
# Env: BUILD (default build), N, WINDOW (stomp_load's receipt window), BENCH_DIR.
set -euo pipefail
TOP="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${BUILD:-build}"
case "$BUILD" in /*) B="$BUILD" ;; *) B="$TOP/$BUILD" ;; esac
N="${N:-200000}"; WINDOW="${WINDOW:-20000}"
for f in "$B/bin/rs" "$B/tools/stomp_load" "$B/tools/sqlite_ref"; do
	[ -x "$f" ] || { echo "bench_rs: $f missing (make BUILD=$BUILD all)" >&2; exit 1; }
done
D=$(mktemp -d "${BENCH_DIR:-/tmp}/bench_rs.XXXXXX"); chmod 755 "$D"
PIDS=()
cleanup() {
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	"$TOP/scripts/pg-stop" "$D/pg" 2>/dev/null || true
	rm -rf "$D"
}
trap cleanup EXIT
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitport() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; return 1; }
rate_of() { sed -n 's/.*rate \([0-9]*\)\/s.*/\1/p'; }

# run_rs NAME STORAGE_JSON: start rs, stream N records, print "rate rss_kb".
run_rs() {
	local sp hp pid out rss
	sp=$(port); hp=$(port)
	cat >"$D/$1.json" <<JSON
{ "stomp": { "port": $sp }, "http": { "port": $hp }, "storage": $2,
  "journal": { "dir": "$D/journal-$1" }, "log": { "level": "warn" } }
JSON
	"$B/bin/rs" -c "$D/$1.json" --init >/dev/null 2>&1
	"$B/bin/rs" -c "$D/$1.json" >"$D/$1.log" 2>&1 &
	pid=$!; PIDS+=("$pid")
	waitport "$sp" || { echo "rs did not start" >&2; cat "$D/$1.log" >&2; exit 1; }
	out=$("$B/tools/stomp_load" -p "$sp" -n "$N" -w "$WINDOW" -i bench -q)
	rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
	kill -TERM "$pid"; wait "$pid" || true
	echo "$(echo "$out" | rate_of) $rss"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "bench_rs: $N CDRs (~560 bytes of JSON each), receipt window $WINDOW, $(nproc) CPUs"
read -r rs_sq rss_sq < <(run_rs sqlite "{ \"backend\": \"sqlite\", \"sqlite\": { \"path\": \"$D/rs.db\" } }")
ref_sq=$("$B/tools/sqlite_ref" "$D/ref.db" "$N" 5000 | rate_of)
printf 'sqlite:     rs %7d rec/s   reference (prepared loop) %7d rows/s   ratio %s   rs peak RSS %d MB\n' \
	"$rs_sq" "$ref_sq" "$(ratio "$rs_sq" "$ref_sq")" $((rss_sq / 1024))

pp=$(port)
"$TOP/scripts/pg-start" "$D/pg" "$pp"
conn="host=127.0.0.1 port=$pp dbname=rs user=postgres"
read -r rs_pg rss_pg < <(run_rs pg "{ \"backend\": \"postgresql\", \"postgresql\": { \"conninfo\": \"$conn\" } }")
psql() { command psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pp" -U postgres rs "$@"; }
psql -c "\\copy (select * from cdr) to '$D/rows.copy'"
psql -c "create table cdr_ref (like cdr including all); alter table cdr_ref add primary key (id)"
t0=$EPOCHREALTIME
psql -c "\\copy cdr_ref from '$D/rows.copy'"
t1=$EPOCHREALTIME
rows=$(psql -A -t -c "select count(*) from cdr_ref")
ref_pg=$(awk -v n="$rows" -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", n / (b - a) }')
printf 'postgresql: rs %7d rec/s   reference (psql COPY)     %7d rows/s   ratio %s   rs peak RSS %d MB\n' \
	"$rs_pg" "$ref_pg" "$(ratio "$rs_pg" "$ref_pg")" $((rss_pg / 1024))
