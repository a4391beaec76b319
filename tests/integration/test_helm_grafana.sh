#!/usr/bin/env bash
# The chart's Grafana dashboard (helm/gvp/files/grafana-gvp.json, values
# grafana.dashboard.enabled, off by default):
#  - the JSON parses, has a uid, and every panel queries at least one expression;
#  - the chart renders no dashboard by default, and with it enabled one ConfigMap
#    labelled grafana_dashboard: "1" whose JSON equals the file (yamllint clean);
#  - every metric name the dashboard queries is in the /metrics output of a running
#    rm (rm_*) or rs (rs_*) started here.
. "$(dirname "$0")/lib/rm.sh"
. "$(dirname "$0")/lib/rs.sh"
CHART="$TOP/helm/gvp"
JSONF="$CHART/files/grafana-gvp.json"
command -v go >/dev/null || die "go is not installed (scripts/install-deps)"

# dashboard_names: the metric names the dashboard's expressions use, one a line
/usr/bin/python3 - "$JSONF" >"$T/names" <<'PY' || die "dashboard JSON: $(cat "$T/names")"
import json, re, sys
d = json.load(open(sys.argv[1]))
assert d.get("uid") and d.get("title"), "no uid or title"
names = set()
panels = [p for p in d["panels"] if p["type"] != "row"]
assert len(panels) >= 10, f"only {len(panels)} panels"
for p in panels:
    exprs = [t.get("expr", "") for t in p.get("targets", [])]
    assert exprs and all(exprs), f"panel {p['title']!r} queries nothing"
    for e in exprs:
        found = re.findall(r"\b((?:rm|rs)_[a-z0-9_]+)\b", e)
        assert found, f"panel {p['title']!r}: no rm_/rs_ metric in {e!r}"
        names.update(found)
print("\n".join(sorted(names)))
PY
ok "dashboard JSON parses: $(wc -l <"$T/names") metric names in its panels"

case "$BUILD" in /*) tools="$BUILD/tools" ;; *) tools="$TOP/$BUILD/tools" ;; esac
mkdir -p "$tools"
R="$tools/helm-render"
(cd "$TOP/tests/tools/helm-render" &&
	GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOPROXY=off \
	GOCACHE="$tools/go-cache" go build -o "$R" .) >"$T/go-build.log" 2>&1 ||
	die "building tests/tools/helm-render (see go-build.log)"
"$R" --name gvp --namespace voice "$CHART" >"$T/default.yaml" || die "render with defaults"
grep -q "grafana" "$T/default.yaml" && die "a Grafana dashboard rendered by default"
printf 'grafana:\n  dashboard:\n    enabled: true\n' >"$T/on.yaml"
"$R" --name gvp --namespace voice -f "$T/on.yaml" "$CHART" >"$T/on-render.yaml" || die "render with the dashboard on"
yamllint -s -c "$TOP/tests/integration/data/helm-yamllint.yaml" "$T/on-render.yaml" >"$T/lint.log" 2>&1 ||
	die "yamllint: $(cat "$T/lint.log")"
/usr/bin/python3 - "$T/on-render.yaml" "$JSONF" <<'PY' || die "rendered dashboard ConfigMap"
import json, sys, yaml
cms = [d for d in yaml.safe_load_all(open(sys.argv[1]))
       if d and d.get("kind") == "ConfigMap" and "gvp-rm-rs.json" in (d.get("data") or {})]
assert len(cms) == 1, f"{len(cms)} dashboard ConfigMaps"
cm = cms[0]
assert cm["metadata"]["labels"].get("grafana_dashboard") == "1", cm["metadata"]["labels"]
assert json.loads(cm["data"]["gvp-rm-rs.json"]) == json.load(open(sys.argv[2])), "JSON differs"
PY
ok "off by default; enabled: one ConfigMap labelled grafana_dashboard=1 holding the same JSON"

sp=$(free_port); hp=$(free_port); rsp=$(free_port); rhp=$(free_port)
rm_write_config "$T/rm.json" "$sp" "$hp" \
	'[ { "name": "ivr", "scheme": "round-robin", "members": [ { "uri": "sip:127.0.0.1:'"$((sp + 10))"'", "max_ports": 10 } ] } ]' \
	"$(rm_default_profile ivr)"
rm_start "$T/rm.json" "$hp"
rs_sqlite_config "$T/rs.json" "$rsp" "$rhp" "$T/rs.db"
rs_start "$T/rs.json" "$rsp"
# the sample names of each /metrics (labels cut off)
{ http_get "$hp" /metrics; http_get "$rhp" /metrics; } | grep -v '^#' | sed 's/[{ ].*//' | sort -u >"$T/have"
missing=$(comm -23 "$T/names" "$T/have")
[ -z "$missing" ] || die "metrics the dashboard queries that rm/rs do not export: $missing"
ok "every metric the dashboard queries is exported by the running rm or rs"
kill -TERM "$RS_PID" "$RM_PID"
