#!/usr/bin/env bash
# rs command line: --help, --version, --check-config (good and bad configs name
# file/key/reason), --init, and SIGTERM while a producer streams: exit 0, every
# receipted record stored.
. "$(dirname "$0")/lib/common.sh"
"$BIN/rs" --help | grep -q -- "--check-config" || die "--help"
for w in broker.mode consume client-individual broker.endpoints snmp.enabled snmp.base_oid \
	RS_PG_URL etc/rs-consumer.json; do
	"$BIN/rs" --help | grep -qF -- "$w" || die "--help does not document $w"
done
"$BIN/rs" --version | grep -qE '^rs [0-9]' || die "--version"
"$BIN/rs" --bogus >/dev/null 2>&1 && die "unknown option accepted"
ok "--help, --version"

echo '{ "stomp": { "port": 70000 } }' >"$T/bad1.json"
out=$("$BIN/rs" --check-config "$T/bad1.json" 2>&1) && die "bad port accepted"
echo "$out" | grep -q "bad1.json" && echo "$out" | grep -q "stomp.port" || die "message lacks file/key: $out"
echo '{ "storage": { "backend": "mysql" } }' >"$T/bad2.json"
out=$("$BIN/rs" --check-config "$T/bad2.json" 2>&1) && die "bad backend accepted"
echo "$out" | grep -q "storage.backend" && echo "$out" | grep -q "sqlite" || die "message: $out"
echo '{ "stomp": { "prot": 1 } }' >"$T/bad3.json"
out=$("$BIN/rs" --check-config "$T/bad3.json" 2>&1) && die "unknown key accepted"
echo "$out" | grep -q "prot" || die "message: $out"
echo '{ "stomp": ' >"$T/bad4.json"
"$BIN/rs" --check-config "$T/bad4.json" >/dev/null 2>&1 && die "invalid JSON accepted"
"$BIN/rs" --check-config "$TOP/etc/rs.json" >/dev/null || die "etc/rs.json does not validate"
"$BIN/rs" --check-config "$TOP/etc/rs-consumer.json" >/dev/null ||
	die "etc/rs-consumer.json does not validate"
echo '{ "broker": { "mode": "consume" } }' >"$T/bad5.json"
out5=$("$BIN/rs" --check-config "$T/bad5.json" 2>&1) && die "consume mode without endpoints accepted"
echo "$out5" | grep -q "broker.endpoints" || die "message: $out5"
ok "--check-config names file, key and reason: $out"

sp=$(free_port); hp=$(free_port)
cat >"$T/rs.json" <<JSON
{ "stomp": { "port": $sp }, "http": { "port": $hp },
  "storage": { "sqlite": { "path": "$T/rs.db" } }, "journal": { "dir": "$T/j" } }
JSON
"$BIN/rs" -c "$T/rs.json" --init >"$T/init.log" 2>&1 || die "--init"
[ "$(sqlite3 "$T/rs.db" 'select max(version) from rs_schema')" = 5 ] || die "--init made no schema"
ok "--init"

"$BIN/rs" -c "$T/rs.json" >"$T/rs.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$sp" 10 || die "rs did not listen"
"$BIN/../tools/stomp_load" -p "$sp" -n 1000000 -w 2000 -r 20000 -i T -o "$T/receipts" -q \
	>"$T/load.log" 2>&1 &
ld=$!; bg_pid $ld
wait_lines "$T/receipts" 2000 15 || die "the load is not streaming"
kill -HUP $rs
wait_log "$T/rs.log" "SIGHUP: log reopened" 1 5 || die "rs did not handle SIGHUP"
kill -0 $rs || die "rs died on SIGHUP"
kill -TERM $rs
wait $rs; rc=$?
[ $rc = 0 ] || die "rs exited $rc on SIGTERM"
wait $ld || true
n=$(wc -l <"$T/receipts")
[ "$n" -gt 1000 ] || die "only $n receipts before SIGTERM"
m=$(/usr/bin/python3 "$HELPERS/testlib.py" missing "sqlite:$T/rs.db" "$T/receipts")
[ "$m" = 0 ] || die "$m receipted records missing"
ok "SIGTERM while streaming: exit 0, all $n receipted records stored"
