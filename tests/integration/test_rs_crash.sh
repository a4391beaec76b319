#!/usr/bin/env bash
# kill -9 rs (SQLite) while a producer streams, restart: every receipted record is
# in the database. Twice, to also cover a restart over a database a crash left.
. "$(dirname "$0")/lib/common.sh"
sp=$(free_port); hp=$(free_port)
cat >"$T/rs.json" <<JSON
{ "stomp": { "port": $sp }, "http": { "port": $hp },
  "storage": { "sqlite": { "path": "$T/rs.db" } }, "journal": { "dir": "$T/journal" } }
JSON
for round in 1 2; do
	"$BIN/rs" -c "$T/rs.json" >"$T/rs$round.log" 2>&1 &
	rs=$!; bg_pid $rs
	wait_port "$sp" 10 || die "rs did not listen"
	"$BIN/../tools/stomp_load" -p "$sp" -n 10000000 -w 5000 -i C$round -o "$T/receipts" -q \
		>"$T/load$round.log" 2>&1 &
	ld=$!; bg_pid $ld
	# mid-stream: this round has had 6,000 records receipted
	wait_lines "$T/receipts" $((round * 6000)) 20 || die "round $round: the load is not streaming"
	kill -9 $rs; wait $rs 2>/dev/null || true
	wait $ld 2>/dev/null || true
done
"$BIN/rs" -c "$T/rs.json" >"$T/rs3.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$sp" 10 || die "rs did not restart"
n=$(wc -l <"$T/receipts")
[ "$n" -gt 10000 ] || die "only $n receipts"
m=$(/usr/bin/python3 "$HELPERS/testlib.py" missing "sqlite:$T/rs.db" "$T/receipts")
[ "$m" = 0 ] || die "$m of $n receipted records lost"
ok "kill -9 twice while streaming: all $n receipted records stored"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"
