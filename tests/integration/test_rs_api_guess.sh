#!/usr/bin/env bash
# Token guessing on rs's /ems-rs API: a source that sent 10 unknown tokens within a
# minute gets 429 with Retry-After for a minute on every request with a token (the
# right one included: a right guess must not show), on the real-time and the report
# endpoints alike; another source (127.0.0.2) with a valid token is served and its
# own unknown token is a plain 401; requests without a token are not counted, and
# still served while blocked (anonymous is admin on loopback: no guess there). Both
# counters are in /metrics.
. "$(dirname "$0")/lib/rs.sh"
sp=$(free_port); hp=$(free_port)
ADMIN=admin-token-0123456789
cat >"$T/rs.json" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $sp },
  "http": { "listen": "127.0.0.1", "port": $hp },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$T/rs.db" } },
  "journal": { "dir": "$T/journal" },
  "api": { "tokens": [ { "token": "$ADMIN", "tenant": "*" } ] } }
JSON
rs_start "$T/rs.json" "$sp"
# code FROM PATH [curl args]: "CODE RETRY-AFTER" of a GET from source address FROM
code() {
	local from=$1 p=$2; shift 2
	curl -s -m 5 -o /dev/null -D "$T/h" --interface "$from" -w '%{http_code}' "$@" \
		"http://127.0.0.1:$hp$p"
	echo " $(awk 'tolower($1) == "retry-after:" { print $2 }' "$T/h" | tr -d '\r')"
}
U=/ems-rs/RT/tenants/usage
for i in $(seq 3); do # no token (anonymous is admin on loopback): not counted
	r=$(code 127.0.0.1 $U); [ "$r" = "200 " ] || die "no token, try $i: $r"
done
for i in $(seq 10); do
	r=$(code 127.0.0.1 $U -H "Authorization: Bearer guess-$i-0123456789")
	[ "$r" = "401 " ] || die "unknown token $i: $r, want 401"
done
r=$(code 127.0.0.1 $U -H "Authorization: Bearer guess-11-0123456789")
case "$r" in "429 "[1-9]*) ;; *) die "11th unknown token: $r, want 429 with Retry-After" ;; esac
s=${r#429 }; [ "$s" -le 60 ] || die "Retry-After $s > 60"
r=$(code 127.0.0.1 $U -H "Authorization: Bearer $ADMIN")
case "$r" in "429 "*) ;; *) die "the right token from the blocked source: $r, want 429" ;; esac
r=$(code 127.0.0.1 "/ems-rs/operations/peaks/RM?from=2026-01-01T00:00:00Z&token=$ADMIN")
case "$r" in "429 "*) ;; *) die "report endpoint from the blocked source: $r, want 429" ;; esac
r=$(code 127.0.0.1 $U); [ "$r" = "200 " ] || die "no token from the blocked source: $r"
ok "10 unknown tokens, then 429 with Retry-After $s s, the right token included, real-time and reports"
r=$(code 127.0.0.2 $U -H "Authorization: Bearer $ADMIN")
[ "$r" = "200 " ] || die "valid token from 127.0.0.2: $r, want 200"
r=$(code 127.0.0.2 $U -H "Authorization: Bearer guess-x-0123456789")
[ "$r" = "401 " ] || die "unknown token from 127.0.0.2: $r, want 401"
grep -q "api: 127.0.0.1 sent 10 unknown tokens" "$T/rs.log" || die "block not logged"
ok "another source is served (200) and its own unknown token is a plain 401; the block is logged"
[ "$(mval "$hp" rs_api_auth_failures_total)" = 11 ] || die "failures: $(mval "$hp" rs_api_auth_failures_total), want 11"
[ "$(mval "$hp" rs_api_auth_limited_total)" = 3 ] || die "limited: $(mval "$hp" rs_api_auth_limited_total), want 3"
ok "rs_api_auth_failures_total 11, rs_api_auth_limited_total 3"
kill -TERM "$RS_PID"; wait "$RS_PID" || die "rs exited $? on SIGTERM"
