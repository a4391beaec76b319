#!/usr/bin/env bash
# HTTP limits of rs and rm (common/httpd): a 300 MB POST is refused with 413 and the
# process does not grow (VmRSS read from /proc before and after), a 4 KiB URL gets 414,
# a 16 KiB and a 1 MiB header are refused, and the endpoints still answer afterwards.
. "$(dirname "$0")/lib/rm.sh"
RAW="/usr/bin/python3 $HELPERS/stomp_raw.py"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
long() { head -c "$1" /dev/zero | tr '\0' a; }

# check NAME PID PORT: the limits on one program's HTTP listener.
check() {
	local name=$1 pid=$2 port=$3 before after code t0
	http_get "$port" /healthz >/dev/null || die "$name /healthz before"
	before=$(rss_kb "$pid")
	t0=$EPOCHREALTIME
	code=$($RAW http "$port" POST /metrics $((300 * 1024 * 1024)))
	[ "$code" = 413 ] || die "$name: 300 MB POST answered $code, want 413"
	after=$(rss_kb "$pid")
	[ $((after - before)) -lt 8192 ] || die "$name grew from $before kB to $after kB on a 300 MB POST"
	ok "$name: 300 MB POST -> 413 in $(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $t0 }") s, VmRSS $before -> $after kB"
	code=$($RAW http "$port" POST /metrics 70000)
	[ "$code" = 413 ] || die "$name: 70 kB POST answered $code, want 413"
	code=$($RAW http "$port" GET "/metrics?$(long 4096)")
	[ "$code" = 414 ] || die "$name: 4 KiB URL answered $code, want 414"
	code=$($RAW http "$port" GET "/healthz?$(long 1000)")
	[ "$code" = 200 ] || die "$name: 1 kB URL answered $code, want 200"
	for hb in 16384 1048576; do
		code=$($RAW http "$port" GET /healthz 0 "$hb")
		case "$code" in 400 | 413 | 431) ;; *) die "$name: $hb-byte header answered $code" ;; esac
	done
	code=$($RAW http "$port" GET /healthz 0 2000)
	[ "$code" = 200 ] || die "$name: 2 kB header answered $code, want 200"
	http_get "$port" /metrics >/dev/null || die "$name /metrics after"
	ok "$name: 70 kB body 413, 4 KiB URL 414, 16 KiB and 1 MiB headers refused, still serving"
}

sp=$(free_port); hp=$(free_port)
cat >"$T/rs.json" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $sp },
  "http": { "listen": "127.0.0.1", "port": $hp },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$T/rs.db" } },
  "journal": { "dir": "$T/journal" } }
JSON
"$BIN/rs" -c "$T/rs.json" >"$T/rs.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$hp" 10 || die "rs did not listen on $hp"
check rs "$rs" "$hp"

SP=$(free_port); HP=$(free_port); M1=$(free_port)
rm_write_config "$T/rm.json" "$SP" "$HP" "[
  {\"name\":\"g\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\"}]}]" "$(rm_default_profile g)"
rm_start "$T/rm.json" "$HP"
check rm "$RM_PID" "$HP"
