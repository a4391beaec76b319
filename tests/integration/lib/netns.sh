# Name-resolution sandbox for the DNS tests: a network namespace with only loopback
# up and its own /etc/hosts and /etc/resolv.conf (unshare -n -m, bind mounts), and a
# nameserver that never answers. Source it FIRST, before lib/rm.sh:
#   . "$(dirname "$0")/lib/netns.sh"; netns_enter "$@"
#   . "$(dirname "$0")/lib/rm.sh"
#   netns_names $'127.0.0.1 localhost\n' "nameserver 127.0.0.53"
#   dns_silent 127.0.0.53 "$T/dns_queries"

# netns_enter ARGS: re-run the calling test inside a new network and mount namespace
# (returns at once when already inside). Before lib/rm.sh, which makes $T: exec would
# leave that directory behind.
netns_enter() {
	[ "${RM_DNS_NS:-}" = 1 ] && return 0
	command -v unshare >/dev/null || { echo "FAIL: unshare missing" >&2; exit 1; }
	exec unshare -n -m env RM_DNS_NS=1 bash "$0" "$@"
}

# netns_names HOSTS RESOLV_CONF: bring loopback up and put HOSTS and RESOLV_CONF (the
# files' text) over /etc/hosts and /etc/resolv.conf for this namespace only.
netns_names() {
	ip link set lo up
	mount --make-rprivate /
	printf '%s\n' "$1" >"$T/hosts"
	printf '%s\n' "$2" >"$T/resolv.conf"
	mount --bind "$T/hosts" /etc/hosts
	mount --bind "$T/resolv.conf" /etc/resolv.conf
}

# dns_silent ADDR [COUNT_FILE]: a DNS server on ADDR:53/udp that reads every query and
# never answers, writing how many it read to COUNT_FILE; registered for cleanup.
dns_silent() {
	/usr/bin/python3 - "$1" "${2:-/dev/null}" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
n = 0
while True:
    s.recvfrom(4096)
    n += 1
    with open(sys.argv[2], "w") as f:
        f.write(str(n))
PY
	bg_pid $!
}
