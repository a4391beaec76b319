# Helpers shared by the proxy benchmarks (bench_rm.sh, bench_overload.sh). Source it
# after setting TOP and B (the build dir, absolute); it sets D (scratch dir), PIDS
# and an EXIT trap that stops every process in PIDS (and removes D unless KEEP=1).
D=$(mktemp -d "${BENCH_DIR:-/tmp}/$(basename "$0" .sh).XXXXXX")
PIDS=()
bench_cleanup() {
	stop_all
	[ "${KEEP:-0}" = 1 ] || rm -rf "$D"
}
trap bench_cleanup EXIT

# bench_wait SECONDS CMD [ARGS...]: run CMD every 0.1 s until it succeeds; 1 if it
# never did within SECONDS (a bounded poll, never a bare sleep, waits for a state).
bench_wait() {
	local limit=$1 i
	shift
	for i in $(seq $((limit * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# udp_bound PORT: 0 if a UDP socket is bound to PORT (a sipp MCP or a proxy is up).
udp_bound() {
	grep -q -- "$(printf ':%04X ' "$1")" /proc/net/udp /proc/net/udp6 2>/dev/null
}

# all_gone PID...: 0 once none of the PIDs is still running (zombies count as gone).
all_gone() {
	local p s
	for p in "$@"; do
		s=$(ps -o stat= -p "$p" 2>/dev/null) || continue
		case "$s" in Z*) ;; *) return 1 ;; esac
	done
}

# rm_mcps_up HTTP_PORT N: 0 if rm's /metrics says N MCPs are up.
rm_mcps_up() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import sys, urllib.request
body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=3).read().decode()
up = [l.split()[-1] for l in body.splitlines() if l.startswith("rm_mcps_up ")]
sys.exit(0 if up and float(up[0]) == float(sys.argv[2]) else 1)
PY
}

# stop_all: SIGTERM every process in PIDS, SIGKILL what is left after 2 s; PIDS=().
stop_all() {
	local p
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	[ ${#PIDS[@]} -eq 0 ] || bench_wait 2 all_gone "${PIDS[@]}" || true
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
	PIDS=()
}
KAM=$(command -v kamailio || echo /usr/sbin/kamailio)
CLK=$(getconf CLK_TCK)

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# pids_of PID: PID and its descendants (Kamailio forks its workers).
pids_of() {
	local p=$1
	echo "$p"
	for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do pids_of "$c"; done
}
# cpu_us PID: utime+stime of PID's whole tree in microseconds.
cpu_us() {
	local t=0
	for p in $(pids_of "$1"); do
		[ -r /proc/"$p"/stat ] || continue
		t=$((t + $(sed 's/^.*) //' /proc/"$p"/stat | awk '{print $12 + $13}')))
	done
	echo $((t * 1000000 / CLK))
}
# rss_kb PID: VmHWM summed over the tree.
rss_kb() {
	local t=0
	for p in $(pids_of "$1"); do
		t=$((t + $(awk '/^VmHWM/ {print $2}' /proc/"$p"/status 2>/dev/null || echo 0)))
	done
	echo "$t"
}
# metric HTTP_PORT NAME: the value of rm's metric NAME (exact series), or empty.
metric() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import sys, urllib.request
try:
    body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=3).read().decode()
except Exception:
    sys.exit(1)
for l in body.splitlines():
    if l.startswith(sys.argv[2] + " "):
        print(l.split()[-1]); break
PY
}

# start_uas NAME PORT: a sipp MCP (etc/sipp/uas_rr.xml, or the scenario UAS_SF) answering
# every call; its statistics (calls completed with ACK and BYE) in $D/uas_NAME.csv every
# second.
start_uas() {
	sipp -sf "${UAS_SF:-$TOP/etc/sipp/uas_rr.xml}" -i 127.0.0.1 -p "$2" -nostdin -aa -max_socket 5000 \
		-trace_stat -stf "$D/uas_$1.csv" -fd 1 >"$D/uas_$1.log" 2>&1 &
	PIDS+=($!)
}

# start_rm NAME SIP_PORT HTTP_PORT MCP_PORT [EXTRA_JSON]: rm in front of one MCP (pid in
# RMPID, log in $D/NAME.log); waits for its HTTP port. Billing: RM_BILLING, a JSON
# object for the "billing" key (default { "mode": "off" }).
start_rm() {
	local name=$1 sp=$2 hp=$3 up=$4 extra=${5:-} billing=${RM_BILLING:-'{ "mode": "off" }'}
	cat >"$D/$name.json" <<JSON
{ "sip": { "listen": "127.0.0.1", "port": $sp, "transports": ["udp", "tcp"] },
  "lrgs": [ { "name": "g", "members": [ { "uri": "sip:127.0.0.1:$up", "max_ports": 100000 } ] } ],
  "profiles": [ { "name": "p", "tenant": "t", "lrg": "g" } ], "default_profile": "p",
  "http": { "listen": "127.0.0.1", "port": $hp }, "billing": $billing,
  "logging": { "level": "${RM_LOG_LEVEL:-warn}" }$extra }
JSON
	"$RM" -c "$D/$name.json" >"$D/$name.log" 2>&1 &
	RMPID=$!; PIDS+=($RMPID)
	for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$hp") 2>/dev/null && break; sleep 0.1; done
}

# start_kamailio PROXY_PORT MCP_PORT [WORKERS]: the reference proxy
# (etc/kamailio/kamailio.cfg, WORKERS UDP workers, default 1); pid in KPID. Returns 1
# if it did not start.
start_kamailio() {
	local kp=$1 up=$2 n=${3:-1}
	mkdir -p "$D/kam"
	sed -e "s/PROXY_PORT/$kp/; s/MCP_PORT/$up/; s#RUN_DIR#$D/kam#" \
		"$TOP/etc/kamailio/kamailio.cfg" >"$D/kamailio.cfg"
	"$KAM" -f "$D/kamailio.cfg" -DD -E -n "$n" -m 1024 -M 8 -Y "$D/kam" >"$D/kam.log" 2>&1 &
	KPID=$!; PIDS+=($KPID)
	bench_wait 10 udp_bound "$kp" && kill -0 "$KPID" 2>/dev/null ||
		{ echo "kamailio did not start:"; tail "$D/kam.log"; return 1; }
}
