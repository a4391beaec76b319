#!/usr/bin/env bash
# rs refuses anonymous STOMP off loopback (issue 9 item 7):
#  - stomp.listen 0.0.0.0 without stomp.login: --check-config and a start both fail
#    with a sentence naming stomp.login and stomp.allow_anonymous, and nothing listens;
#  - the same with stomp.allow_anonymous: true starts, and an anonymous client is
#    served (through 127.0.0.1, which 0.0.0.0 includes);
#  - the login from env RS_STOMP_LOGIN / RS_STOMP_PASSCODE (what the helm chart's
#    Secret sets) is enough to start, and is enforced: a client without it is
#    refused, one with it is served;
#  - 127.0.0.1 without a login still starts (--check-config).
. "$(dirname "$0")/lib/common.sh"
RS_BIN="${RS_BIN:-$BIN/rs}"
CLIENT=(/usr/bin/python3 "$HELPERS/stomp_tls_client.py")
[ -x "$RS_BIN" ] || die "rs binary not built: $RS_BIN"

# conf FILE LISTEN STOMP_PORT HTTP_PORT EXTRA_STOMP_KEYS
conf() {
	cat >"$1" <<JSON
{ "stomp": { "listen": "$2", "port": $3 $5 },
  "http": { "listen": "127.0.0.1", "port": $4 },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$T/rs.db" } },
  "journal": { "dir": "$T/journal" } }
JSON
}

SP=$(free_port); HP=$(free_port)
conf "$T/anon.json" 0.0.0.0 "$SP" "$HP" ""
if "$RS_BIN" --check-config "$T/anon.json" >"$T/check.out" 2>&1; then
	die "--check-config accepted stomp.listen 0.0.0.0 without a login"
fi
for w in "stomp.login" "0.0.0.0" "not a loopback address" "stomp.allow_anonymous: true"; do
	grep -qF "$w" "$T/check.out" || die "error lacks \"$w\": $(cat "$T/check.out")"
done
rc=0; timeout 10 "$RS_BIN" -c "$T/anon.json" >"$T/anon.log" 2>&1 || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || die "rs started (exit $rc) on 0.0.0.0 without a login"
grep -qF "stomp.allow_anonymous" "$T/anon.log" || die "start error: $(cat "$T/anon.log")"
(exec 3<>"/dev/tcp/127.0.0.1/$SP") 2>/dev/null && die "something listens on $SP"
ok "0.0.0.0 without login refused: $(head -c 160 "$T/check.out")..."

conf "$T/allow.json" 0.0.0.0 "$SP" "$HP" ', "allow_anonymous": true'
"$RS_BIN" -c "$T/allow.json" >"$T/allow.log" 2>&1 &
pid=$!; bg_pid $pid
wait_port "$SP" 10 || die "rs with allow_anonymous did not listen: $(cat "$T/allow.log")"
out=$("${CLIENT[@]}" "$SP" anon-1 --plain) || die "anonymous client: $out"
kill $pid; wait $pid || true
ok "allow_anonymous: true starts on 0.0.0.0 and serves an anonymous client"

SP=$(free_port); HP=$(free_port)
conf "$T/env.json" 0.0.0.0 "$SP" "$HP" ""
RS_STOMP_LOGIN=billing RS_STOMP_PASSCODE=s3cret "$RS_BIN" --check-config "$T/env.json" \
	>"$T/check.out" 2>&1 || die "env login: $(cat "$T/check.out")"
RS_STOMP_LOGIN=billing RS_STOMP_PASSCODE=s3cret "$RS_BIN" -c "$T/env.json" >"$T/env.log" 2>&1 &
pid=$!; bg_pid $pid
wait_port "$SP" 10 || die "rs with an env login did not listen: $(cat "$T/env.log")"
rc=0; out=$("${CLIENT[@]}" "$SP" nologin-1 --plain) || rc=$?
[ "$rc" = 2 ] || die "client without login: exit $rc ($out), want refused"
out=$("${CLIENT[@]}" "$SP" login-1 --plain --login billing --passcode s3cret) ||
	die "client with the env login: $out"
ok "env RS_STOMP_LOGIN/RS_STOMP_PASSCODE: starts on 0.0.0.0, enforced"

conf "$T/lo.json" 127.0.0.1 "$SP" "$HP" ""
"$RS_BIN" --check-config "$T/lo.json" >"$T/check.out" 2>&1 || die "loopback: $(cat "$T/check.out")"
ok "127.0.0.1 without a login is accepted"
