# Shared helpers for integration tests written in bash. Source it:
#   . "$(dirname "$0")/lib/common.sh"
# (or lib/rm.sh, lib/rs.sh, lib/billing.sh, which source it). It sets TOP, BUILD, BIN
# (the built binaries), HELPERS (this folder, where the python peers live), a per-test
# scratch dir T, and an EXIT trap that kills every process registered with `bg_pid PID`
# (and removes T unless KEEP=1). Sourcing it twice is harmless.
[ -z "${_LIB_COMMON:-}" ] || return 0
_LIB_COMMON=1
set -euo pipefail
TOP="${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
HELPERS="$TOP/tests/integration/lib"
BUILD="${BUILD:-build}"
case "$BUILD" in /*) BIN="$BUILD/bin" ;; *) BIN="$TOP/$BUILD/bin" ;; esac
export PATH="/usr/sbin:/sbin:$PATH"
T=$(mktemp -d "/tmp/$(basename "$0" .sh).XXXXXX")
_PIDS=()

bg_pid() { _PIDS+=("$1"); }

_cleanup() {
	local rc=$?
	for p in "${_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	sleep 0.2 # grace between SIGTERM and SIGKILL at exit
	for p in "${_PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
	if [ "$rc" -ne 0 ]; then
		echo "--- test failed (exit $rc); logs in $T:"
		for f in "$T"/*.log; do [ -f "$f" ] && { echo "== $f"; tail -n 25 "$f"; }; done
	elif [ "${KEEP:-0}" != 1 ]; then
		rm -rf "$T"
	fi
	exit "$rc"
}
trap _cleanup EXIT

die() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# free_port [udp]: a port that is free on 127.0.0.1 for TCP (and UDP) right now.
free_port() {
	/usr/bin/python3 - <<'PY'
import socket, random
for _ in range(200):
    p = random.randint(20000, 60000)
    try:
        s = socket.socket(); s.bind(("127.0.0.1", p)); s.close()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", p)); u.close()
        print(p); break
    except OSError:
        pass
PY
}

# wait_port PORT [SECONDS]: wait until 127.0.0.1:PORT accepts TCP connections.
wait_port() {
	local port=$1 limit=${2:-10} i=0
	until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
		i=$((i + 1)); [ $i -ge $((limit * 10)) ] && return 1; sleep 0.1
	done
}

# http_get PORT PATH: body of GET http://127.0.0.1:PORT/PATH on stdout; the exit status
# is 0 for a 2xx answer.
http_get() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}{sys.argv[2]}", timeout=5)
    sys.stdout.write(r.read().decode()); sys.exit(0)
except urllib.error.HTTPError as e:
    sys.stdout.write(e.read().decode()); sys.exit(1)
except Exception as e:
    sys.stderr.write(str(e) + "\n"); sys.exit(2)
PY
}

# metric PORT NAME: value of the first /metrics sample whose name+labels starts with NAME.
metric() {
	http_get "$1" /metrics | awk -v n="$2" 'index($0, n) == 1 { print $NF; exit }'
}

# podify JSON: a config rendered for a pod names absolute paths (volumes) that do not
# exist here; --check-config looks at the host (directories exist and are writable),
# so every absolute path outside $T moves under $T/pod, its parent made as the pod's
# volume is.
podify() {
	/usr/bin/python3 - "$1" "$T/pod" "$T/" <<'PY'
import json, os, sys
c = json.load(open(sys.argv[1]))
def walk(o):
    for k, v in (o.items() if isinstance(o, dict) else []):
        if isinstance(v, str) and v.startswith("/") and not v.startswith(sys.argv[3]):
            o[k] = sys.argv[2] + v
            os.makedirs(os.path.dirname(o[k]), exist_ok=True)
        walk(v)
walk(c)
json.dump(c, open(sys.argv[1], "w"))
PY
}

# pg_up PORT: a throwaway PostgreSQL 15 in $T/pg on 127.0.0.1:PORT (scripts/pg-start,
# database rs, user postgres), stopped when the test exits, however it exits.
pg_up() {
	chmod 755 "$T" # initdb runs as the postgres user when the test runs as root
	"$TOP/scripts/pg-start" "$T/pg" "$1" || die "pg-start"
	# set +e: under errexit, (exit $rc) would end the trap before _cleanup kills anything
	trap 'rc=$?; set +e; "$TOP/scripts/pg-stop" "$T/pg"; (exit $rc); _cleanup' EXIT
}

# mval HTTP_PORT NAME: an rm/rs metric as an integer (0 if absent). A /metrics that
# does not answer is asked again (three tries) before it counts as 0, so a slow answer
# on a loaded machine does not pass for "the counter is 0".
mval() {
	local v= i
	for i in 1 2 3; do
		v=$(metric "$1" "$2" 2>/dev/null) && break
		v=
	done
	v=${v:-0}
	printf '%.0f\n' "$v"
}

# wait_metric HTTP_PORT NAME OP VALUE SECONDS: wait until the metric compares true.
wait_metric() {
	local hp=$1 name=$2 op=$3 want=$4 limit=$5 i v
	for i in $(seq $((limit * 5))); do
		v=$(mval "$hp" "$name")
		[ "$v" "$op" "$want" ] && return 0
		sleep 0.2
	done
	echo "wait_metric: $name = $v, wanted $op $want" >&2
	return 1
}

# wait_for SECONDS CMD [ARGS...]: run CMD every 0.1 s until it succeeds; 1 if it never
# did within SECONDS. Use it instead of a bare sleep wherever a test waits for a state.
wait_for() {
	local limit=$1 i
	shift
	for i in $(seq $((limit * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# log_count FILE PATTERN: how many lines of FILE match the extended regex PATTERN (0
# when the file does not exist yet).
log_count() {
	local n
	n=$(grep -cE -- "$2" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}

# wait_log FILE PATTERN COUNT SECONDS: wait until FILE holds at least COUNT lines
# matching PATTERN; 1 if it did not within SECONDS.
wait_log() {
	local f=$1 pat=$2 want=$3 limit=$4 i
	for i in $(seq $((limit * 10))); do
		[ "$(log_count "$f" "$pat")" -ge "$want" ] && return 0
		sleep 0.1
	done
	echo "wait_log: $(log_count "$f" "$pat") lines of $f match '$pat', wanted $want" >&2
	return 1
}

# wait_gone PID SECONDS: wait until process PID has exited (or is a zombie).
wait_gone() {
	local limit=$2 i s
	for i in $(seq $((limit * 10))); do
		s=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
		case "$s" in Z*) return 0 ;; esac
		sleep 0.1
	done
	return 1
}

# udp_bound PORT: 0 if a UDP socket is bound to PORT (any local address), per /proc.
udp_bound() {
	local hex
	hex=$(printf ':%04X ' "$1")
	grep -q -- "$hex" /proc/net/udp /proc/net/udp6 2>/dev/null
}

# wait_udp PORT [SECONDS]: wait until something is bound to UDP PORT (a sipp peer has
# opened its socket, say).
wait_udp() {
	wait_for "${2:-10}" udp_bound "$1"
}

# count_lines FILE: lines in FILE (0 when it does not exist yet).
count_lines() {
	if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi
}

# wait_lines FILE N SECONDS: wait until FILE has at least N lines (a receipts file
# written as a load runs, say).
wait_lines() {
	local f=$1 want=$2
	wait_for "$3" eval '[ "$(count_lines "'"$f"'")" -ge '"$want"' ]' ||
		{ echo "wait_lines: $f has $(count_lines "$f") lines, wanted $want" >&2; return 1; }
}
