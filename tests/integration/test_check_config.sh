#!/usr/bin/env bash
# --check-config runs every check that start runs (issue 9 item 8), for rm and rs:
# each config below that --check-config refuses is refused with one sentence naming
# file, key and reason, AND fails to start with the same sentence; each config it
# accepts starts (its HTTP port opens). Covered: listen addresses ("localhost",
# "999.1.1.1", an address of no interface, "::1" on a host without IPv6, made with a
# network namespace), missing directories for log, spool, journal and SQLite file,
# PostgreSQL conninfo in both forms (and env RS_PG_URL), duplicate keys, and JSON
# syntax errors reported as FILE:LINE:COLUMN: what was expected.
. "$(dirname "$0")/lib/common.sh"

NOV6=()
if unshare -n true 2>/dev/null; then
	cat >"$T/nov6" <<'SH'
#!/bin/sh
# run "$@" in a new network namespace with 127.0.0.1 and no IPv6 at all
ip link set lo up && sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	&& sysctl -qw net.ipv6.conf.lo.disable_ipv6=1 || exit 99
exec "$@"
SH
	chmod +x "$T/nov6"
	NOV6=(unshare -n "$T/nov6")
fi

# cfg BASE OUT [key.path=JSON ...]: BASE with the settings applied, written to OUT.
cfg() {
	/usr/bin/python3 - "$@" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
for s in sys.argv[3:]:
    k, v = s.split("=", 1)
    *path, last = k.split(".")
    o = c
    for p in path:
        o = o.setdefault(p, {})
    o[last] = json.loads(v)
json.dump(c, open(sys.argv[2], "w"), indent=1)
PY
}

# refused PROG CONFIG KEY REASON_REGEX [runner...]: --check-config and start both
# refuse CONFIG with "CONFIG: KEY: reason" (KEY may be a LINE:COL prefix instead).
refused() {
	local prog=$1 c=$2 key=$3 why=$4 out rc
	shift 4
	out=$("$@" "$BIN/$prog" --check-config "$c" 2>&1) && die "$prog --check-config accepted $c: $out"
	echo "$out" | grep -qF -- "$c$key" || die "$prog: message does not name file and key ($c$key): $out"
	echo "$out" | grep -qE -- "$why" || die "$prog: message does not say /$why/: $out"
	[ "$(echo "$out" | wc -l)" = 1 ] || die "$prog: more than one line: $out"
	rc=0
	timeout 10 "$@" "$BIN/$prog" -c "$c" >"$T/start.log" 2>&1 || rc=$?
	[ $rc != 0 ] && [ $rc != 124 ] || die "$prog started with $c, which --check-config refused (rc $rc)"
	grep -qF -- "$out" "$T/start.log" || grep -qF -- "${out#"$prog: "}" "$T/start.log" ||
		die "$prog start refused $c differently: $(cat "$T/start.log") vs $out"
	echo "  refused: $out"
	n_refused=$((n_refused + 1))
}

# accepted PROG CONFIG HTTP_PORT [runner...]: --check-config says ok, and it starts.
accepted() {
	local prog=$1 c=$2 hp=$3 out pid
	shift 3
	out=$("$@" "$BIN/$prog" --check-config "$c" 2>&1) || die "$prog --check-config refused $c: $out"
	"$@" "$BIN/$prog" -c "$c" >"$T/$prog-run.log" 2>&1 &
	pid=$!
	bg_pid $pid
	wait_port "$hp" 10 || die "$prog did not start with $c, which --check-config accepted: $(tail -3 "$T/$prog-run.log")"
	kill $pid; wait $pid 2>/dev/null || true
	n_accepted=$((n_accepted + 1))
}
n_refused=0 n_accepted=0

# ---- rm ---------------------------------------------------------------------------------
SP=$(free_port); HP=$(free_port)
cat >"$T/rm-base.json" <<JSON
{ "sip": { "listen": "127.0.0.1", "port": $SP, "sip_servers": ["sip:127.0.0.1:5090"] },
  "lrgs": [ { "name": "g", "members": [ { "uri": "sip:127.0.0.1:5070" } ] } ],
  "profiles": [ { "name": "p", "lrg": "g" } ], "default_profile": "p",
  "http": { "listen": "127.0.0.1", "port": $HP },
  "billing": { "mode": "spool-only", "spool_dir": "$T/rm-spool" },
  "logging": { "file": "-" } }
JSON
R="$T/rm.json"
cfg "$T/rm-base.json" "$R" 'sip.listen="localhost"'
refused rm "$R" ": sip.listen: " 'numeric IPv4 or IPv6 address.*got "localhost"'
cfg "$T/rm-base.json" "$R" 'sip.listen="999.1.1.1"'
refused rm "$R" ": sip.listen: " 'numeric .*got "999.1.1.1"'
cfg "$T/rm-base.json" "$R" 'sip.listen="192.0.2.1"'
refused rm "$R" ": sip.listen: " 'cannot listen on 192.0.2.1: .*no interface'
cfg "$T/rm-base.json" "$R" 'http.listen="localhost"'
refused rm "$R" ": http.listen: " 'names are not resolved'
cfg "$T/rm-base.json" "$R" "billing.spool_dir=\"$T/missing/spool\""
refused rm "$R" ": billing.spool_dir: " "cannot create $T/missing/spool: directory $T/missing: No such file"
cfg "$T/rm-base.json" "$R" "logging.file=\"$T/missing/rm.log\""
refused rm "$R" ": logging.file: " "cannot create $T/missing/rm.log: directory $T/missing: No such file"
: >"$T/plain"
cfg "$T/rm-base.json" "$R" "billing.spool_dir=\"$T/plain\""
refused rm "$R" ": billing.spool_dir: " "exists and is not a directory"
sed 's/"port": '"$SP"',/"port": '"$SP"', "port": 5061,/' "$T/rm-base.json" >"$R"
refused rm "$R" ": sip.port: " 'duplicate key'
sed 's/"listen": "127.0.0.1", "port": '"$SP"'/"listen": "127.0.0.1" "port": '"$SP"'/' "$T/rm-base.json" >"$R"
refused rm "$R" ":1:34: " "expected ',' or '}' after a member; found '\"'"
if [ ${#NOV6[@]} -gt 0 ]; then
	cfg "$T/rm-base.json" "$R" 'sip.listen="::1"'
	refused rm "$R" ": sip.listen: " 'cannot listen on \[::1\]' "${NOV6[@]}"
	cfg "$T/rm-base.json" "$R" 'http.listen="::1"'
	refused rm "$R" ": http.listen: " 'cannot listen on ::1' "${NOV6[@]}"
fi
ok "rm: $n_refused configs refused by --check-config and by start alike"

accepted rm "$T/rm-base.json" "$HP"
[ -d "$T/rm-spool" ] || die "rm did not create its spool directory"
if /usr/bin/python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	cfg "$T/rm-base.json" "$R" 'sip.listen="::1"'
	accepted rm "$R" "$HP"
	cfg "$T/rm-base.json" "$R" 'sip.listen="[::1]"' 'http.listen="127.0.0.1"'
	accepted rm "$R" "$HP"
fi
ok "rm: $n_accepted configs accepted by --check-config and started"

# ---- rs ---------------------------------------------------------------------------------
n_refused=0 n_accepted=0
SP=$(free_port); HP=$(free_port)
cat >"$T/rs-base.json" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $SP },
  "http": { "listen": "127.0.0.1", "port": $HP },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$T/rs.db" },
               "postgresql": { "conninfo": "host=127.0.0.1 port=1 dbname=rs connect_timeout=1" } },
  "journal": { "dir": "$T/rs-journal" },
  "log": { "file": "-" } }
JSON
S="$T/rs.json"
cfg "$T/rs-base.json" "$S" 'stomp.listen="localhost"'
refused rs "$S" ": stomp.listen: " 'numeric IPv4 or IPv6 address.*got "localhost"'
cfg "$T/rs-base.json" "$S" 'stomp.listen="999.1.1.1"'
refused rs "$S" ": stomp.listen: " 'got "999.1.1.1"'
cfg "$T/rs-base.json" "$S" 'stomp.listen="192.0.2.1"' 'stomp.login="gvp"' 'stomp.passcode="x"'
refused rs "$S" ": stomp.listen: " 'cannot listen on 192.0.2.1'
cfg "$T/rs-base.json" "$S" 'http.listen="localhost"'
refused rs "$S" ": http.listen: " 'names are not resolved'
cfg "$T/rs-base.json" "$S" "storage.sqlite.path=\"$T/missing/rs.db\""
refused rs "$S" ": storage.sqlite.path: " "cannot create $T/missing/rs.db: directory $T/missing: No such file"
cfg "$T/rs-base.json" "$S" "journal.dir=\"$T/missing/journal\""
refused rs "$S" ": journal.dir: " "cannot create $T/missing/journal: directory $T/missing: No such file"
cfg "$T/rs-base.json" "$S" "log.file=\"$T/missing/rs.log\""
refused rs "$S" ": log.file: " "cannot create $T/missing/rs.log"
cfg "$T/rs-base.json" "$S" 'storage.backend="postgresql"' 'storage.postgresql.conninfo="garbage"'
refused rs "$S" ": storage.postgresql.conninfo: " 'missing "=" after "garbage"'
cfg "$T/rs-base.json" "$S" 'storage.backend="postgresql"' \
	'storage.postgresql.conninfo="postgresql://rs@127.0.0.1:1/rs?conect_timeout=1"'
refused rs "$S" ": storage.postgresql.conninfo: " 'invalid URI query parameter: "conect_timeout"'
cfg "$T/rs-base.json" "$S" 'storage.backend="postgresql"'
RS_PG_URL="postgresql://[::1" refused rs "$S" ": env.RS_PG_URL: " 'not a libpq connection string'
sed 's/"journal":/"log": {}, "journal":/' "$T/rs-base.json" >"$S"
refused rs "$S" ": log: " 'duplicate key'
printf '{\n  "stomp": {\n    "port": 1,\n  }\n}\n' >"$S"
refused rs "$S" ":4:3: " "expected a key after ','"
if [ ${#NOV6[@]} -gt 0 ]; then
	cfg "$T/rs-base.json" "$S" 'stomp.listen="::1"'
	refused rs "$S" ": stomp.listen: " 'cannot listen on ::1' "${NOV6[@]}"
fi
ok "rs: $n_refused configs refused by --check-config and by start alike"

accepted rs "$T/rs-base.json" "$HP"
[ -d "$T/rs-journal" ] && [ -f "$T/rs.db" ] || die "rs did not create its journal and database"
cfg "$T/rs-base.json" "$S" 'storage.backend="postgresql"' \
	'storage.postgresql.conninfo="postgresql://rs@127.0.0.1:1/rs?connect_timeout=1"'
accepted rs "$S" "$HP"
cfg "$T/rs-base.json" "$S" 'storage.backend="postgresql"'
accepted rs "$S" "$HP"
if /usr/bin/python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	cfg "$T/rs-base.json" "$S" 'stomp.listen="::1"'
	accepted rs "$S" "$HP"
	cfg "$T/rs-base.json" "$S" 'stomp.listen="[::1]"'
	accepted rs "$S" "$HP"
fi
ok "rs: $n_accepted configs accepted by --check-config and started (PostgreSQL down: rs journals)"
