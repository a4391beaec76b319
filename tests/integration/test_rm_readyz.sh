#!/usr/bin/env bash
# rm /readyz is false until an MCP has answered OPTIONS (issue 9 item 9): rm started
# with its only MCP address where nothing answers answers /readyz 503 from the first
# request on (MCPs start "unknown", not up), rm_mcps_up stays 0 and rm_mcp_up has no
# 1; once a sipp MCP answers there, /readyz turns 200.
. "$(dirname "$0")/lib/rm.sh"

SP=$(free_port); HP=$(free_port); M=$(free_port)
rm_write_config "$T/rm.json" "$SP" "$HP" \
	"[{\"name\":\"g\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M\"}]}]" "$(rm_default_profile g)"
# The MCP address swallows every packet (a UDP socket that never answers, so no ICMP
# refusal either): the first OPTIONS result is a timeout 2 s after start. Until then
# the MCP is unknown; with 3 failures to down, an MCP that started "up" would look
# ready for about 4 s.
sed -i 's/"interval_ms": 500, "timeout_ms": 400, "failures_to_down": 2/"interval_ms": 1000, "timeout_ms": 2000, "failures_to_down": 3/' \
	"$T/rm.json"
grep -q '"failures_to_down": 3' "$T/rm.json" || die "could not set the monitor in rm.json"
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").close()
while True: s.recv(65536)
' "$M" "$T/hole.ready" &
HOLE=$!
bg_pid $HOLE
for _ in $(seq 1 100); do [ -e "$T/hole.ready" ] && break; sleep 0.05; done
[ -e "$T/hole.ready" ] || die "the black-hole MCP did not bind"

"$RM_BIN" -c "$T/rm.json" >>"$T/rm.log" 2>&1 &
RM_PID=$!
bg_pid "$RM_PID"
# Poll from the moment HTTP accepts, every 50 ms for 3 s: every answer must be
# "not ready" with rm_mcps_up 0 and no rm_mcp_up 1 (one python, so polls are dense).
out=$(/usr/bin/python3 - "$HP" "$M" 2>&1 <<'PY'
import sys, time, urllib.request, urllib.error
hp, m = sys.argv[1], sys.argv[2]
def get(path):
    try:
        r = urllib.request.urlopen(f"http://127.0.0.1:{hp}{path}", timeout=2)
        return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
t0 = time.time()
while True:
    try:
        get("/healthz"); break
    except OSError:
        if time.time() - t0 > 10: sys.exit("rm did not open HTTP")
        time.sleep(0.02)
n, end = 0, time.time() + 3
while time.time() < end:
    code, body = get("/readyz")
    if code == 200 or not body.startswith("not ready"):
        sys.exit(f"/readyz {code} '{body.strip()}' with no MCP running (answer {n})")
    for line in get("/metrics")[1].splitlines():
        if line.startswith("rm_mcps_up ") and float(line.split()[-1]) != 0:
            sys.exit(f"{line} with no MCP running (answer {n})")
        if line.startswith(f'rm_mcp_up{{mcp="sip:127.0.0.1:{m}"}}') and float(line.split()[-1]) == 1:
            sys.exit(f"{line} with no MCP running (answer {n})")
    n += 1
    time.sleep(0.05)
print(n, body.strip())
PY
) || die "$out"
n=${out%% *}; body=${out#* }
[ "$n" -ge 10 ] || die "only $n /readyz answers in 3 s"
grep -q "MCP sip:127.0.0.1:$M is down" "$T/rm.log" || die "the dead MCP was not logged down"
ok "no MCP running: /readyz 503 on all $n answers from the first ('$body'), rm_mcps_up 0"

kill $HOLE; wait $HOLE 2>/dev/null || true
uas_start mcp "$M" uas_rr.xml
t0=$EPOCHREALTIME
for _ in $(seq 1 100); do http_get "$HP" /readyz >/dev/null 2>&1 && break; sleep 0.1; done
body=$(http_get "$HP" /readyz) || die "/readyz still not 200 10 s after the MCP started: $body"
took=$(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}")
[ "$(metric "$HP" rm_mcps_up)" = 1 ] || die "rm_mcps_up is not 1"
ok "sipp MCP started: /readyz 200 ('$body') after ${took}s"
