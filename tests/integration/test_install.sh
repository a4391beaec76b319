#!/usr/bin/env bash
# make install (issue 9, systemd): `make install DESTDIR=...` puts both binaries,
# both systemd units and the example configs in place; the units carry the sandbox
# (unprivileged user, ProtectSystem=strict, ProtectHome, PrivateTmp, NoNewPrivileges,
# state/log directories), reload by SIGHUP, restart on failure, raise LimitNOFILE and
# check the config before start; every path the installed configs write to lies in
# the unit's state or log directory; systemd-analyze verify finds nothing to say; and
# the installed ExecStartPre passes as an unprivileged user with only the unit's
# directories writable (a private mount namespace stands in for systemd).
. "$(dirname "$0")/lib/common.sh"
command -v make >/dev/null || die "make is not installed"
chmod 755 "$T" # the sandboxed check runs as nobody

make -C "$TOP" install DESTDIR="$T/root" BUILD="$BUILD" >"$T/install.log" 2>&1 ||
	die "make install failed (see install.log)"
R="$T/root"
for f in usr/local/bin/rm usr/local/bin/rs; do
	[ -x "$R/$f" ] || die "$f not installed"
done
for f in usr/local/lib/systemd/system/rm.service usr/local/lib/systemd/system/rs.service \
	etc/gvp/rm.json etc/gvp/rs.json; do
	[ -f "$R/$f" ] || die "$f not installed"
done
cmp -s "$R/etc/gvp/rm.json" "$TOP/etc/rm.json" || die "etc/gvp/rm.json differs from etc/rm.json"
cmp -s "$R/etc/gvp/rs.json" "$TOP/etc/rs.json" || die "etc/gvp/rs.json differs from etc/rs.json"
# A second install keeps a config the admin edited.
echo '{}' >"$R/etc/gvp/rs.json"
make -C "$TOP" install DESTDIR="$T/root" BUILD="$BUILD" >>"$T/install.log" 2>&1 || die "second make install"
[ "$(cat "$R/etc/gvp/rs.json")" = '{}' ] || die "make install overwrote an existing /etc/gvp/rs.json"
cp "$TOP/etc/rs.json" "$R/etc/gvp/rs.json"
ok "make install DESTDIR: bin/rm, bin/rs, lib/systemd/system/{rm,rs}.service, /etc/gvp/{rm,rs}.json (kept on reinstall)"

# The units' keys, read with a small parser (systemd-analyze checks syntax below).
for p in rm rs; do
	/usr/bin/python3 - "$R/usr/local/lib/systemd/system/$p.service" "$R/etc/gvp/$p.json" "$p" <<'PY' ||
import json, os, re, sys
unit, conf, prog = sys.argv[1], sys.argv[2], sys.argv[3]
sec, keys = None, {}
for n, line in enumerate(open(unit), 1):
    line = line.strip()
    if not line or line[0] in "#;":
        continue
    m = re.fullmatch(r"\[(\w+)\]", line)
    if m:
        sec = m.group(1); continue
    k, eq, v = line.partition("=")
    if not eq or sec is None:
        sys.exit(f"{unit}:{n}: not a key=value line in a section: {line}")
    keys.setdefault((sec, k.strip()), []).append(v.strip())
def get(k, sec="Service"):
    v = keys.get((sec, k))
    return v[-1] if v else None
def need(cond, what):
    if not cond:
        sys.exit(f"{prog}.service: {what}")
need(get("DynamicUser") == "yes" or (get("User") or "root") not in ("root", "0"),
     "no unprivileged user (DynamicUser=yes or User=)")
need(get("ProtectSystem") == "strict", "ProtectSystem is not strict")
need(get("ProtectHome") in ("yes", "read-only", "tmpfs"), "no ProtectHome")
need(get("PrivateTmp") == "yes", "no PrivateTmp")
need(get("NoNewPrivileges") == "yes", "no NoNewPrivileges")
need(get("Restart") == "on-failure", "Restart is not on-failure")
need((get("LimitNOFILE") or "0").isdigit() and int(get("LimitNOFILE")) >= 65536,
     "LimitNOFILE below 65536")
need(re.fullmatch(r"\S*kill -HUP \$MAINPID", get("ExecReload") or ""), "ExecReload is not kill -HUP")
need(get("WantedBy", "Install") == "multi-user.target", "not WantedBy=multi-user.target")
start = (get("ExecStart") or "").split()
pre = (get("ExecStartPre") or "").split()
need(start == [f"/usr/local/bin/{prog}", "-c", f"/etc/gvp/{prog}.json"],
     f"ExecStart is {start}, want the installed binary on /etc/gvp/{prog}.json")
need(pre == [start[0], "--check-config", start[2]], f"ExecStartPre is {pre}, want --check-config of the same file")
state = get("StateDirectory"); logs = get("LogsDirectory")
need(state == prog and logs == prog, "StateDirectory/LogsDirectory are not the program's")
need(get("WorkingDirectory") == f"/var/lib/{state}", "WorkingDirectory is not the state directory")
# Every path the installed config writes must be writable in the sandbox.
c = json.load(open(conf))
writable = (f"/var/lib/{state}", f"/var/log/{logs}")
def inside(p):
    p = os.path.normpath(os.path.join(f"/var/lib/{state}", p))
    return any(p == w or p.startswith(w + "/") for w in writable)
if prog == "rm":
    paths = [("billing.spool_dir", c["billing"]["spool_dir"]), ("logging.file", c["logging"]["file"])]
else:
    paths = [("storage.sqlite.path", c["storage"]["sqlite"]["path"]), ("journal.dir", c["journal"]["dir"]),
             ("log.file", c["log"]["file"])]
for key, p in paths:
    need(p == "-" or inside(p), f"{key} {p} is outside {writable}: read-only under ProtectSystem=strict")
print(f"{prog}.service: {len(keys)} keys, writes {[p for _, p in paths]}")
PY
	die "$p.service"
done
ok "units: unprivileged, ProtectSystem=strict, ProtectHome, PrivateTmp, NoNewPrivileges, state/log dirs hold every written path, kill -HUP, on-failure, LimitNOFILE, --check-config first"

if command -v systemd-analyze >/dev/null; then
	# verify wants the ExecStart binaries to exist: install under a scratch PREFIX.
	P="$T/prefix"
	make -C "$TOP" install PREFIX="$P/usr" SYSCONFDIR="$P/etc" BUILD="$BUILD" \
		>>"$T/install.log" 2>&1 || die "make install PREFIX=$P/usr"
	for p in rm rs; do
		grep -q "^ExecStart=$P/usr/bin/$p -c $P/etc/gvp/$p.json\$" "$P/usr/lib/systemd/system/$p.service" ||
			die "PREFIX/SYSCONFDIR not applied to $p.service"
		out=$(systemd-analyze verify "$P/usr/lib/systemd/system/$p.service" 2>&1) ||
			die "systemd-analyze verify $p.service: $out"
		[ -z "$out" ] || die "systemd-analyze verify $p.service: $out"
	done
	ok "systemd-analyze verify: both units clean"
else
	ok "systemd-analyze not installed: unit syntax checked by the parser above only"
fi

# The installed ExecStartPre as systemd would run it: an unprivileged user, only
# /var/lib/<prog> and /var/log/<prog> writable (tmpfs over /var/lib and /var/log in a
# private mount namespace, so the host's are untouched), cwd = the state directory.
command -v unshare >/dev/null && command -v setpriv >/dev/null || die "unshare/setpriv missing (util-linux)"
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	ok "not root: the sandboxed ExecStartPre run is skipped"
	exit 0
fi
sandbox() { # sandbox PROG MAKE_STATE_DIR: run the unit's ExecStartPre
	unshare -m --propagation private sh -c '
		mount -t tmpfs tmpfs /var/lib && mount -t tmpfs tmpfs /var/log || exit 9
		if [ "$3" = 1 ]; then
			mkdir -m 750 /var/lib/$2 /var/log/$2 && chown nobody /var/lib/$2 /var/log/$2
		fi
		cd /var/lib/$2 2>/dev/null || cd /
		exec setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs \
			"$1/usr/local/bin/$2" --check-config "$1/etc/gvp/$2.json"' sh "$R" "$1" "$2"
}
for p in rm rs; do
	out=$(sandbox $p 1 2>&1) || die "installed $p --check-config fails in the unit's sandbox: $out"
	if out2=$(sandbox $p 0 2>&1); then
		die "$p --check-config passed with no writable state directory: $out2"
	fi
	echo "$out2" | grep -qE "/var/lib/$p|is not writable" ||
		die "$p: refusal does not name the state directory: $out2"
done
ok "installed configs pass --check-config as nobody with only the state/log dirs writable; without them refused ($out2)"
