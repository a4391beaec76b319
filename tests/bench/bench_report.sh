#!/usr/bin/env bash
# rs reports benchmark (not a test). The issue's data set is N=10000000 (default
# 1,000,000; the figures say what ran):
#  1. peaks: N records over 90 days (10 tenants, 20 profiles, 1,000 dns, calls of
#     0..10 min, in the order rs writes them) are written raw into a version-1
#     database, `rs --init` rolls them up (the migration's backfill: the same code as
#     ingest), then a 30-day HOUR peaks answer for one tenant over HTTP is timed
#     (median of 5) beside the same answer computed by GROUP BY and a window over the
#     raw table in the same run (median of 3; the answers are compared, they must be
#     equal);
#  2. ingest with rollups on vs off: stomp_load streams NI records (default 200,000)
#     into a fresh rs each way, records/s and the ratio;
#  3. CSV export of the whole N-record range: rows/s and rs's resident memory before
#     and at the end (VmHWM), to show it stays flat.
# Env: BUILD, N, NI, BENCH_DIR; PARTS (default "peaks ingest"): "peaks" runs steps 1
# and 3, "ingest" step 2; REPS (default 1): runs of step 2 each way, alternating off and
# on, the ratio is of the medians; BACKENDS (default sqlite): "sqlite postgresql" runs
# every step on a throwaway PostgreSQL 15 too (scripts/pg-start; the PostgreSQL
# migration also partitions cdr by month; the raw answer is timed through psql).
set -euo pipefail
TOP="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${BUILD:-build}"
case "$BUILD" in /*) B="$BUILD" ;; *) B="$TOP/$BUILD" ;; esac
N="${N:-1000000}"; NI="${NI:-200000}"; PARTS="${PARTS:-peaks ingest}"; REPS="${REPS:-1}"

# csv_export LABEL: stream the whole range as CSV from rs ($pid, $hp), print rows/s and
# rs's memory before, after and at peak, then stop rs
csv_export() {
	local r0 t dt rows hwm
	rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
	r0=$(rss)
	t=$(date +%s.%N)
	curl -s -o "$D/export.csv" "http://127.0.0.1:$hp/ems-rs/HIST/CDRs/RM/details?from=$T0&to=$((T0 + 91 * DAY))&format=csv"
	dt=$(awk "BEGIN{print $(date +%s.%N) - $t}")
	rows=$(($(wc -l <"$D/export.csv") - 1))
	hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
	echo "${1}CSV export: $rows rows in $(awk "BEGIN{printf \"%.1f\", $dt}")s = $(awk "BEGIN{printf \"%d\", $rows / $dt}") rows/s; rs RSS ${r0} kB before, $(rss) kB after, peak ${hwm} kB"
	[ "$rows" = "$N" ] || { echo "export: $rows rows, want $N"; exit 1; }
	kill "$pid"; wait "$pid" 2>/dev/null || true
}

for f in "$B/bin/rs" "$B/tools/stomp_load"; do
	[ -x "$f" ] || { echo "bench_report: $f missing (make BUILD=$BUILD all)" >&2; exit 1; }
done
D=$(mktemp -d "${BENCH_DIR:-/tmp}/bench_report.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	[ -z "${PG_UP:-}" ] || "$TOP/scripts/pg-stop" "$D/pg" 2>/dev/null || true
	[ -z "${PGQ_UP:-}" ] || "$TOP/scripts/pg-stop" "$D/pgq" 2>/dev/null || true
	rm -rf "$D"
}
trap cleanup EXIT
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitport() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; return 1; }
conf() { # FILE DB STOMP HTTP ROLLUPS
	cat >"$1" <<JSON
{ "stomp": { "port": $3 }, "http": { "port": $4 },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$2" } },
  "journal": { "dir": "$2.journal" }, "log": { "level": "warn" },
  "report": { "rollups": $5, "retention_days": { "five_minutes": 0, "thirty_minutes": 0,
                                                 "hour": 0 } } }
JSON
}
conf_storage() { # FILE STORAGE_JSON STOMP HTTP ROLLUPS DIR
	cat >"$1" <<JSON
{ "stomp": { "port": $3 }, "http": { "port": $4 }, "storage": $2,
  "journal": { "dir": "$6.journal" }, "log": { "level": "warn" },
  "report": { "rollups": $5, "retention_days": { "five_minutes": 0, "thirty_minutes": 0,
                                                 "hour": 0 } } }
JSON
}
T0=1767225600000 # 2026-01-01T00:00:00Z
DAY=86400000

if [[ " $PARTS " == *" peaks "* && " ${BACKENDS:-sqlite} " == *" sqlite "* ]]; then
# 1. The data set, raw, in a version-1 database; rs --init rolls it up.
sp=$(port); hp=$(port)
conf "$D/q.json" "$D/q.db" "$sp" "$hp" true
"$B/bin/rs" -c "$D/q.json" --init >/dev/null 2>&1
t=$(date +%s.%N)
# Rows go in in the order rs writes them (records arrive as calls end), ids in that
# order; cdr's indexes are dropped first and the version-1 one rebuilt after (the
# migration builds the later ones): 10 million inserts into five indexes in random
# order took far longer than building them.
sqlite3 "$D/q.db" >/dev/null <<SQL
DROP TABLE rollup_5m; DROP TABLE rollup_30m; DROP TABLE rollup_hour; DROP TABLE rollup_day;
DROP TABLE rollup_cp; DELETE FROM rs_schema; INSERT INTO rs_schema VALUES (1);
DROP INDEX cdr_tenant; DROP INDEX cdr_start_id; DROP INDEX cdr_end_ms;
PRAGMA journal_mode=WAL; PRAGMA cache_size=-1000000; PRAGMA temp_store=MEMORY;
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < $N),
r AS MATERIALIZED (SELECT $T0 + abs(random()) % (90 * $DAY) AS s, abs(random()) % 600000 AS d FROM g),
o AS (SELECT row_number() OVER (ORDER BY s + 100 + d) AS k, s, d FROM r)
INSERT INTO cdr (id, schema, call_id, node, tenant, profile, dnis, start_ms, answer_ms,
                 end_ms, duration_ms, disposition, sip_status, ended_by, attempts, body,
                 received_ms)
SELECT printf('B-%09d', k), 1, 'c' || k, 'rm-1', 't' || (k % 10), 'p' || (k % 20), '800' || (k % 1000),
       s, s + 100, s + 100 + d, d, 'answered', 200, 'caller', 1, '{}', s + 100 + d FROM o ORDER BY k;
CREATE INDEX cdr_tenant ON cdr(tenant, start_ms);
SQL
gen=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t}")
t=$(date +%s.%N)
"$B/bin/rs" -c "$D/q.json" --init >"$D/init.log" 2>&1 || { cat "$D/init.log"; exit 1; }
mig=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t}")
echo "data: $N raw records over 90 days written in ${gen}s; rolled up by rs --init in ${mig}s ($(awk "BEGIN{printf \"%d\", $N / $mig}") records/s)"

"$B/bin/rs" -c "$D/q.json" >"$D/q.log" 2>&1 &
pid=$!; PIDS+=("$pid")
waitport "$hp" || { echo "rs did not listen"; exit 1; }
F=$((T0 + 30 * DAY)); TT=$((T0 + 60 * DAY))
/usr/bin/python3 - "$hp" "$D/q.db" "$F" "$TT" <<'PY'
import json, sqlite3, statistics, sys, time, urllib.request
hp, db, F, T = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
url = ("http://127.0.0.1:%s/ems-rs/operations/peaks/RM?granularity=HOUR&from=%d&to=%d"
       "&tenant-id=t3" % (hp, F, T))
api = []
for _ in range(6):
    t = time.perf_counter()
    body = urllib.request.urlopen(url, timeout=60).read()
    api.append(time.perf_counter() - t)
api = api[1:]  # the first warms the page cache
got = [(b["peak"], b["arrivals"]) for b in json.loads(body)["buckets"]]
H = 3600000
SQL = """
WITH ev(t, d) AS (
  SELECT max(start_ms, :f), 1 FROM cdr WHERE tenant = 't3' AND start_ms < :t AND end_ms > :f
    AND end_ms > start_ms
  UNION ALL
  SELECT end_ms, -1 FROM cdr WHERE tenant = 't3' AND start_ms < :t AND end_ms > :f
    AND end_ms < :t AND end_ms > start_ms),
pts AS (SELECT t, sum(d) AS d FROM ev GROUP BY t),
run AS MATERIALIZED (SELECT t, (t - :f) / 3600000 AS k, sum(d) OVER (ORDER BY t) AS lvl
                     FROM pts),
b AS (SELECT k, max(lvl) AS mx, min(t) AS t0, max(t) AS t1 FROM run GROUP BY k),
bl AS MATERIALIZED (SELECT b.k, b.mx, b.t0, r.lvl AS last FROM b JOIN run r ON r.t = b.t1),
arr AS MATERIALIZED (SELECT (start_ms - :f) / 3600000 AS k, count(*) AS n FROM cdr
                     WHERE tenant = 't3' AND start_ms >= :f AND start_ms < :t GROUP BY k),
hrs(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM hrs WHERE :f + (k + 1) * 3600000 < :t)
SELECT :f + h.k * 3600000,
  CASE WHEN bl.t0 = :f + h.k * 3600000 THEN bl.mx
       ELSE max(coalesce(bl.mx, 0), coalesce((SELECT p.last FROM bl p WHERE p.k < h.k
                                              ORDER BY p.k DESC LIMIT 1), 0)) END,
  coalesce(arr.n, 0)
FROM hrs h LEFT JOIN bl ON bl.k = h.k LEFT JOIN arr ON arr.k = h.k ORDER BY h.k"""
c = sqlite3.connect(db)
raw = []
for _ in range(3):
    t = time.perf_counter()
    ref = [(r[1], r[2]) for r in c.execute(SQL, {"f": F, "t": T})]
    raw.append(time.perf_counter() - t)
ma, mr = statistics.median(api), statistics.median(raw)
print("peaks, 30 days of HOUR for one tenant: API %.1f ms (median of 5, over HTTP),"
      " GROUP BY over raw %.0f ms (median of 3): %.0fx; answers %s" %
      (ma * 1000, mr * 1000, mr / ma, "equal" if got == ref else "DIFFER"))
if got != ref:
    sys.exit(1)
PY

# 3. CSV export of the whole range, streamed.
csv_export ""
rm -rf "$D/q.db"* "$D/export.csv"
fi

# 1 and 3 on PostgreSQL: the same data set in a version-1 database (unpartitioned cdr),
# rolled up and partitioned by rs --init's migration; the raw reference in SQL.
if [[ " $PARTS " == *" peaks "* && " ${BACKENDS:-sqlite} " == *" postgresql "* ]]; then
[ -x "$B/tools/pg_schema_v2" ] || { echo "bench_report: $B/tools/pg_schema_v2 missing" >&2; exit 1; }
pp=$(port); sp=$(port); hp=$(port)
chmod 755 "$D"
"$TOP/scripts/pg-start" "$D/pgq" "$pp" >/dev/null
PGQ_UP=1
psq() { psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pp" -U postgres rs "$@"; }
conf_storage "$D/pq.json" "{ \"backend\": \"postgresql\", \"postgresql\": { \"conninfo\": \"host=127.0.0.1 port=$pp dbname=rs user=postgres\", \"statement_timeout_ms\": 3600000 } }" "$sp" "$hp" true "$D/pq"
t=$(date +%s.%N)
{ "$B/tools/pg_schema_v2"; cat <<SQL
DROP TABLE rollup_5m, rollup_30m, rollup_hour, rollup_day, rollup_cp;
UPDATE rs_schema SET version = 1;
DROP INDEX cdr_start_ms; DROP INDEX cdr_tenant;
SET work_mem = '512MB'; SET maintenance_work_mem = '1GB';
INSERT INTO cdr (id, schema, call_id, node, tenant, profile, dnis, start_ms, answer_ms,
                 end_ms, duration_ms, disposition, sip_status, ended_by, attempts, body,
                 received_ms)
SELECT 'B-' || lpad(k::text, 9, '0'), 1, 'c' || k, 'rm-1', 't' || (k % 10), 'p' || (k % 20),
       '800' || (k % 1000), s, s + 100, s + 100 + d, d, 'answered', 200, 'caller', 1, '{}',
       s + 100 + d
FROM (SELECT row_number() OVER (ORDER BY s + 100 + d) AS k, s, d
      FROM (SELECT $T0 + floor(random() * 90 * $DAY)::bigint AS s,
                   floor(random() * 600000)::bigint AS d FROM generate_series(1, $N)) g) o
ORDER BY k;
CREATE INDEX cdr_start_ms ON cdr(start_ms); CREATE INDEX cdr_tenant ON cdr(tenant, start_ms);
VACUUM ANALYZE cdr;
SQL
} | psq >/dev/null
gen=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t}")
t=$(date +%s.%N)
"$B/bin/rs" -c "$D/pq.json" --init >"$D/pinit.log" 2>&1 || { cat "$D/pinit.log"; exit 1; }
mig=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t}")
echo "postgresql data: $N raw records over 90 days written in ${gen}s; rolled up and partitioned by rs --init in ${mig}s ($(awk "BEGIN{printf \"%d\", $N / $mig}") records/s)"
psq -c "VACUUM ANALYZE" >/dev/null
"$B/bin/rs" -c "$D/pq.json" >"$D/pq.log" 2>&1 &
pid=$!; PIDS+=("$pid")
waitport "$hp" || { echo "rs did not listen"; exit 1; }
F=$((T0 + 30 * DAY)); TT=$((T0 + 60 * DAY))
/usr/bin/python3 - "$hp" "$pp" "$F" "$TT" <<'PY'
import json, statistics, subprocess, sys, time, urllib.request
hp, pp, F, T = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
url = ("http://127.0.0.1:%s/ems-rs/operations/peaks/RM?granularity=HOUR&from=%d&to=%d"
       "&tenant-id=t3" % (hp, F, T))
api = []
for _ in range(6):
    t = time.perf_counter()
    body = urllib.request.urlopen(url, timeout=60).read()
    api.append(time.perf_counter() - t)
api = api[1:]
got = [(b["peak"], b["arrivals"]) for b in json.loads(body)["buckets"]]
SQL = """
WITH ev(t, d) AS (
  SELECT GREATEST(start_ms, %(f)d), 1 FROM cdr WHERE tenant = 't3' AND start_ms < %(t)d
    AND end_ms > %(f)d AND end_ms > start_ms
  UNION ALL
  SELECT end_ms, -1 FROM cdr WHERE tenant = 't3' AND start_ms < %(t)d AND end_ms > %(f)d
    AND end_ms < %(t)d AND end_ms > start_ms),
pts AS (SELECT t, sum(d) AS d FROM ev GROUP BY t),
run AS MATERIALIZED (SELECT t, (t - %(f)d) / 3600000 AS k, sum(d) OVER (ORDER BY t) AS lvl
                     FROM pts),
b AS (SELECT k, max(lvl) AS mx, min(t) AS t0, max(t) AS t1 FROM run GROUP BY k),
bl AS MATERIALIZED (SELECT b.k, b.mx, b.t0, r.lvl AS last FROM b JOIN run r ON r.t = b.t1),
arr AS MATERIALIZED (SELECT (start_ms - %(f)d) / 3600000 AS k, count(*) AS n FROM cdr
                     WHERE tenant = 't3' AND start_ms >= %(f)d AND start_ms < %(t)d GROUP BY k),
hrs AS (SELECT generate_series(0, (%(t)d - %(f)d - 1) / 3600000) AS k)
SELECT CASE WHEN bl.t0 = %(f)d + h.k * 3600000 THEN bl.mx
       ELSE GREATEST(coalesce(bl.mx, 0), coalesce((SELECT p.last FROM bl p WHERE p.k < h.k
                                                   ORDER BY p.k DESC LIMIT 1), 0)) END,
  coalesce(arr.n, 0)
FROM hrs h LEFT JOIN bl ON bl.k = h.k LEFT JOIN arr ON arr.k = h.k ORDER BY h.k""" % {"f": F, "t": T}
raw = []
for _ in range(3):
    t = time.perf_counter()
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", ",", "-h", "127.0.0.1", "-p", pp,
                          "-U", "postgres", "rs", "-c", SQL], check=True, capture_output=True,
                         text=True).stdout
    raw.append(time.perf_counter() - t)
ref = [tuple(int(x) for x in l.split(",")) for l in out.split("\n") if l]
ma, mr = statistics.median(api), statistics.median(raw)
print("postgresql peaks, 30 days of HOUR for one tenant: API %.1f ms (median of 5, over HTTP),"
      " GROUP BY over raw %.0f ms (median of 3, psql): %.0fx; answers %s" %
      (ma * 1000, mr * 1000, mr / ma, "equal" if got == ref else "DIFFER"))
if got != ref:
    sys.exit(1)
PY
csv_export "postgresql "
rm -f "$D/export.csv"
"$TOP/scripts/pg-stop" "$D/pgq" >/dev/null 2>&1 || true
PGQ_UP=
fi

# 2. Ingest with rollups on and off, on each backend of BACKENDS.
ingest() { # NAME ROLLUPS STORAGE_JSON -> rate
	local sp hp p out
	sp=$(port); hp=$(port)
	conf_storage "$D/$1.json" "$3" "$sp" "$hp" "$2" "$D/$1"
	"$B/bin/rs" -c "$D/$1.json" >"$D/$1.log" 2>&1 &
	p=$!; PIDS+=("$p")
	waitport "$sp" || { echo "rs did not listen" >&2; exit 1; }
	out=$("$B/tools/stomp_load" -p "$sp" -n "$NI" -w 20000 -i "$1")
	kill "$p"; wait "$p" 2>/dev/null || true
	echo "$out" | sed -n 's/.*rate \([0-9]*\)\/s.*/\1/p'
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
[[ " $PARTS " == *" ingest "* ]] || exit 0
for be in ${BACKENDS:-sqlite}; do
	if [ "$be" = postgresql ]; then
		pp=$(port)
		chmod 755 "$D"
		"$TOP/scripts/pg-start" "$D/pg" "$pp" >/dev/null
		PG_UP=1
		storage="{ \"backend\": \"postgresql\", \"postgresql\": { \"conninfo\": \"host=127.0.0.1 port=$pp dbname=rs user=postgres\" } }"
		fresh() { psql -X -q -h 127.0.0.1 -p "$pp" -U postgres rs -c "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null; }
	else
		fresh() { rm -rf "$D"/*.db* "$D"/*.journal; }
	fi
	offs=(); ons=()
	for r in $(seq "$REPS"); do
		[ "$be" = sqlite ] && storage="{ \"backend\": \"sqlite\", \"sqlite\": { \"path\": \"$D/off$r.db\" } }"
		fresh; offs+=("$(ingest "off$r" false "$storage")")
		[ "$be" = sqlite ] && storage="{ \"backend\": \"sqlite\", \"sqlite\": { \"path\": \"$D/on$r.db\" } }"
		fresh; ons+=("$(ingest "on$r" true "$storage")")
	done
	fresh
	off=$(printf '%s\n' "${offs[@]}" | median)
	on=$(printf '%s\n' "${ons[@]}" | median)
	echo "ingest of $NI records ($be), $REPS run(s) each way, alternating (off: ${offs[*]}; on: ${ons[*]}):" \
		"rollups off $off/s, on $on/s (medians): $(awk "BEGIN{printf \"%.2f\", $on / $off}")x"
done
