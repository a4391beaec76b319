#!/usr/bin/env bash
# rs accepts exactly what the helm chart renders: the rs.json of the rs ConfigMap
# (chart defaults, and tests/integration/data/helm-override.yaml with a PostgreSQL
# Secret) passes `rs --check-config` with the STOMP login the chart passes from its
# credentials Secret (env RS_STOMP_LOGIN / RS_STOMP_PASSCODE; without it rs refuses to
# listen on 0.0.0.0); with the Secret the config names no conninfo,
# so it is refused without env RS_PG_URL and accepted with it; and rs really runs
# the rendered PostgreSQL config with the URL from RS_PG_URL (ports and paths moved to
# free ones / the scratch dir), storing a record in that database.
. "$(dirname "$0")/lib/common.sh"
command -v go >/dev/null || die "go is not installed (scripts/install-deps)"
/usr/bin/python3 -c 'import yaml' || die "python3-yaml is not installed"
case "$BUILD" in /*) tools="$BUILD/tools" ;; *) tools="$TOP/$BUILD/tools" ;; esac
mkdir -p "$tools"
R="$tools/helm-render"
(cd "$TOP/tests/tools/helm-render" &&
	GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOPROXY=off \
	GOCACHE="$tools/go-cache" go build -o "$R" .) >"$T/go-build.log" 2>&1 ||
	die "building tests/tools/helm-render (see go-build.log)"

# rs_json MANIFESTS OUT: the rs.json of the rs ConfigMap.
rs_json() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
cms = [d for d in docs if d.get("kind") == "ConfigMap" and "rs.json" in d.get("data", {})]
assert len(cms) == 1, "expected one ConfigMap with rs.json, got %d" % len(cms)
open(sys.argv[2], "w").write(cms[0]["data"]["rs.json"])
PY
}
"$R" --name gvp --namespace voice "$TOP/helm/gvp" >"$T/default.yaml" 2>"$T/render.log" ||
	die "render with defaults"
rs_json "$T/default.yaml" "$T/default.json" || die "no rs.json in the default render"
grep -q '"snmp"' "$T/default.json" || die "rendered rs.json has no snmp block"
grep -q "RS_STOMP_LOGIN" "$T/default.yaml" || die "the default render passes no RS_STOMP_LOGIN"
export RS_STOMP_LOGIN=gvp RS_STOMP_PASSCODE=chart-secret
podify "$T/default.json"
env -u RS_PG_URL "$BIN/rs" --check-config "$T/default.json" >"$T/check1.log" 2>&1 ||
	die "rs refuses the chart's default rs.json: $(cat "$T/check1.log")"
if env -u RS_PG_URL -u RS_STOMP_LOGIN "$BIN/rs" --check-config "$T/default.json" >"$T/check0.log" 2>&1; then
	die "rs accepted the chart's 0.0.0.0 listener without the Secret's login"
fi
ok "chart defaults: rendered rs.json (json logging, 0.0.0.0, snmp) passes rs --check-config" \
	"with the credentials Secret's env, and is refused without it"

"$R" --name gvp --namespace voice -f "$TOP/tests/integration/data/helm-override.yaml" \
	"$TOP/helm/gvp" >"$T/override.yaml" 2>"$T/render.log" || die "render with override"
rs_json "$T/override.yaml" "$T/pg.json" || die "no rs.json in the override render"
grep -q '"postgresql"' "$T/pg.json" || die "override did not select postgresql"
grep -q "RS_PG_URL" "$T/override.yaml" || die "override render passes no RS_PG_URL"
podify "$T/pg.json"
if env -u RS_PG_URL "$BIN/rs" --check-config "$T/pg.json" >"$T/check2.log" 2>&1; then
	die "postgresql with an empty conninfo and no RS_PG_URL was accepted"
fi
grep -q "RS_PG_URL" "$T/check2.log" || die "the refusal does not mention RS_PG_URL: $(cat "$T/check2.log")"
RS_PG_URL="postgresql://postgres@127.0.0.1:5432/rs" "$BIN/rs" --check-config "$T/pg.json" \
	>"$T/check3.log" 2>&1 || die "rs refuses the rendered PostgreSQL rs.json with RS_PG_URL: $(cat "$T/check3.log")"
ok "override (PostgreSQL Secret): refused without RS_PG_URL ($(cat "$T/check2.log")), accepted with it"

# Run it for real: the rendered config, ports and paths moved, URL from RS_PG_URL.
pp=$(free_port); sp=$(free_port); hp=$(free_port)
pg_up "$pp"
/usr/bin/python3 - "$T/pg.json" "$T/run.json" "$sp" "$hp" "$T" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["stomp"]["port"], c["http"]["port"] = int(sys.argv[3]), int(sys.argv[4])
c["journal"]["dir"] = sys.argv[5] + "/journal"
json.dump(c, open(sys.argv[2], "w"))
PY
export RS_PG_URL="postgresql://postgres@127.0.0.1:$pp/rs"
"$BIN/rs" -c "$T/run.json" --init >"$T/init.log" 2>&1 || die "rs --init with RS_PG_URL"
"$BIN/rs" -c "$T/run.json" >"$T/rs.log" 2>&1 &
rs=$!; bg_pid $rs
wait_port "$sp" 10 || die "rs did not listen"
STOMP_LOGIN=$RS_STOMP_LOGIN STOMP_PASSCODE=$RS_STOMP_PASSCODE \
	/usr/bin/python3 "$HELPERS/stomp_client.py" send "$sp" H 10 >"$T/send.log" 2>&1 ||
	die "send: $(cat "$T/send.log")"
[ "$(/usr/bin/python3 "$HELPERS/testlib.py" count "pg:$pp" cdr)" = 10 ] ||
	die "records not in the PostgreSQL named by RS_PG_URL"
grep -q '^{' "$T/rs.log" || die "json logging from the rendered config not in effect"
ok "rendered PostgreSQL config runs: URL from RS_PG_URL, 10 records stored, JSON log lines"
kill -TERM $rs; wait $rs || die "rs exited $? on SIGTERM"
