# rm helpers for integration tests: config writers (rm_write_config,
# rm_default_profile), rm_start, sipp peers (uas_start, uac_run, uac_stats, uas_calls)
# and sip_send. Source it: . "$(dirname "$0")/lib/rm.sh" (it sources common.sh).
[ -z "${_LIB_RM:-}" ] || return 0
_LIB_RM=1
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RM_BIN="$BIN/rm"
SIPP_DIR="$TOP/etc/sipp"
[ -x "$RM_BIN" ] || die "rm binary not built: $RM_BIN"
command -v sipp >/dev/null || die "sipp not installed (package sip-tester)"

# rm_write_config FILE SIP_PORT HTTP_PORT LRGS_JSON [EXTRA_JSON]
# LRGS_JSON: the "lrgs" array; EXTRA_JSON: more top-level keys (", \"k\": v" form).
rm_write_config() {
	local f=$1 sp=$2 hp=$3 lrgs=$4 extra=${5:-}
	cat >"$f" <<JSON
{
  "sip": { "listen": "127.0.0.1", "port": $sp, "transports": ["udp", "tcp"],
           "sip_servers": ["sip:127.0.0.1:$((sp + 30))"] },
  "lrgs": $lrgs,
  "monitor": { "interval_ms": 500, "timeout_ms": 400, "failures_to_down": 2,
               "successes_to_up": 1 },
  "http": { "listen": "127.0.0.1", "port": $hp },
  "billing": { "mode": "off" },
  "logging": { "level": "${RM_LOG_LEVEL:-info}" }$extra
}
JSON
}

# A profile section using LRG for every call (default profile).
rm_default_profile() {
	local lrg=$1 limits=${2:-}
	echo ", \"profiles\": [ { \"name\": \"default\", \"tenant\": \"default\", \"lrg\": \"$lrg\"$limits } ], \"default_profile\": \"default\""
}

# rm_start CONFIG HTTP_PORT: start rm in the background (pid in RM_PID), wait for HTTP.
rm_start() {
	"$RM_BIN" -c "$1" >>"$T/rm.log" 2>&1 &
	RM_PID=$!
	bg_pid "$RM_PID"
	wait_port "$2" 10 || die "rm did not open HTTP port $2"
}

# uas_start NAME PORT SCENARIO [u1|t1]: a sipp MCP in the background (pid in UAS_PID).
uas_start() {
	local name=$1 port=$2 sf=$3 tr=${4:-u1}
	mkdir -p "$T/$name.d"
	(cd "$T/$name.d" && exec sipp -sf "$SIPP_DIR/$sf" -i 127.0.0.1 -p "$port" -t "$tr" \
		-nostdin -aa -max_socket 2000 -trace_stat -stf "$T/$name.csv" -fd 1 \
		-trace_counts -trace_err -error_file "$T/$name.err" >"$T/$name.log" 2>&1) &
	UAS_PID=$!
	bg_pid "$UAS_PID"
}

# uac_run NAME RM_PORT SCENARIO CALLS RATE TIMEOUT_S [sipp args...]: a sipp SIP Server
# sending CALLS calls to UAC_HOST:RM_PORT (UAC_HOST default 127.0.0.1); sets CREATED OK
# FAILED RTD (avg response time, ms) and returns sipp's exit status.
uac_run() {
	local name=$1 rmport=$2 sf=$3 calls=$4 rate=$5 tmo=$6
	shift 6
	local rc=0 lp
	lp=$(free_port)
	sipp "${UAC_HOST:-127.0.0.1}:$rmport" -sf "$SIPP_DIR/$sf" -s 1000 -i 127.0.0.1 -p "$lp" \
		-m "$calls" -r "$rate" -l 5000 -nostdin -recv_timeout 5s -timeout "${tmo}s" \
		-timeout_error -default_behaviors all,-abortunexp -max_socket 2000 \
		-trace_stat -stf "$T/$name.csv" -fd 1 -trace_err -error_file "$T/$name.err" \
		"$@" >"$T/$name.log" 2>&1 || rc=$?
	uac_stats "$T/$name.csv"
	return $rc
}

# uac_stats CSV: CREATED OK FAILED from the last row of a sipp -stf file.
uac_stats() {
	CREATED=0 OK=0 FAILED=0
	[ -f "$1" ] || return 0
	read -r CREATED OK FAILED < <(tail -n 1 "$1" | awk -F';' '{print $13, $16, $18}')
}

# uas_calls NAME: INVITEs the sipp MCP NAME has received (its -trace_counts file,
# written every second; OPTIONS pings answered by -aa are not counted).
uas_calls() {
	tail -n 1 "$T/$1.d/"*_counts.csv | awk -F';' '{print $3}'
}

# sip_send PORT PROTO: send stdin's bytes to rm (udp|tcp), print any reply (1 s).
sip_send() {
	[ -f "$T/sip_send.py" ] || cat >"$T/sip_send.py" <<'PY'
import socket, sys
port, proto = int(sys.argv[1]), sys.argv[2]
data = sys.stdin.buffer.read()
if proto == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.sendto(data, ("127.0.0.1", port))
else:
    s = socket.create_connection(("127.0.0.1", port))
    try:
        s.sendall(data)
    except OSError:
        pass
s.settimeout(1.0)
out = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
        if proto == "udp":
            break
except (socket.timeout, OSError):
    pass
sys.stdout.write(out.decode("latin-1"))
PY
	/usr/bin/python3 "$T/sip_send.py" "$1" "$2"
}

# wait_mcp_up HTTP_PORT URI [SECONDS] [0|1]: wait until rm's monitor reports the MCP
# URI up (or down with 0), i.e. rm_mcp_up{mcp="URI"} is 1 (0).
wait_mcp_up() {
	wait_metric "$1" "rm_mcp_up{mcp=\"$2\"}" -eq "${4:-1}" "${3:-10}"
}

# rm_reload [SECONDS]: SIGHUP rm ($RM_PID) and wait until its log says the new
# configuration is in place (one more "configuration reloaded" line).
rm_reload() {
	local n
	n=$(log_count "$T/rm.log" "configuration reloaded")
	kill -HUP "$RM_PID"
	wait_log "$T/rm.log" "configuration reloaded" $((n + 1)) "${1:-10}" || die "rm did not reload"
}
