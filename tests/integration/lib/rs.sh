# rs helpers for integration tests: rs_sqlite_config, rs_start, and the SQLite checks
# sql, wait_rows, check_unique. Source it: . "$(dirname "$0")/lib/rs.sh" (it sources
# common.sh).
[ -z "${_LIB_RS:-}" ] || return 0
_LIB_RS=1
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# rs_sqlite_config FILE STOMP_PORT HTTP_PORT DB
rs_sqlite_config() {
	cat >"$1" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $2 },
  "http": { "listen": "127.0.0.1", "port": $3 },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$4" } },
  "writer": { "retry_ms": 200 },
  "journal": { "dir": "$4.journal" } }
JSON
}

# rs_start CONFIG STOMP_PORT [LOGNAME]: start rs in the background (pid in RS_PID);
# RS_BIN overrides the binary ($BIN/rs).
rs_start() {
	"${RS_BIN:-$BIN/rs}" -c "$1" >>"$T/${3:-rs}.log" 2>&1 &
	RS_PID=$!
	bg_pid "$RS_PID"
	wait_port "$2" 10 || die "rs did not listen on $2"
}

# sql DB SQL: one value from an SQLite database (rs's).
sql() { sqlite3 -cmd ".timeout 10000" "$1" "$2"; }

# wait_rows DB WANT SECONDS: wait until table cdr holds WANT rows.
wait_rows() {
	local i n=0
	for i in $(seq $(($3 * 5))); do
		n=$(sql "$1" "select count(*) from cdr" 2>/dev/null || echo 0)
		[ "$n" -ge "$2" ] && break
		sleep 0.2
	done
	echo "$n"
}

# check_unique DB: no duplicate id and no duplicate call-id in cdr.
check_unique() {
	local d
	d=$(sql "$1" "select count(*) from (select call_id from cdr group by call_id having count(*) > 1)")
	[ "$d" = 0 ] || die "$d call-ids stored more than once"
	d=$(sql "$1" "select count(*) - count(distinct id) from cdr")
	[ "$d" = 0 ] || die "$d duplicate record ids"
}
