#!/usr/bin/env bash
# The operations artefacts that need no running rm/rs:
#  - the STOMP credentials Secret and stompTLS (helm_check_stomp.py, default and
#    tests/integration/data/helm-tls.yaml): rs and rm accept the rendered configs with
#    the Secret's login and with certificates at the mounted paths;
#  - helm/gvp renders (with a real Go text/template + sprig renderer built here from
#    Debian's Go packages, tests/tools/helm-render) with its defaults and with
#    tests/integration/data/helm-override.yaml; the output passes yamllint and the
#    structural check tests/integration/lib/helm_check.py; a broken port makes it fail;
#  - prometheus-snmp-exporter --dry-run accepts etc/snmp-exporter/snmp.yml (and
#    refuses a broken copy);
#  - etc/mibs/GVP-RM-MIB.txt and GVP-RS-MIB.txt load in net-snmp (and smilint when
#    installed), and every OID in the layout table of etc/mibs/README.md resolves to
#    the documented name.
. "$(dirname "$0")/lib/common.sh"
CHART="$TOP/helm/gvp"
DATA="$TOP/tests/integration/data"
CHECK="$HELPERS/helm_check.py"
SNMPYML="$TOP/etc/snmp-exporter/snmp.yml"
BASE=1.3.6.1.4.1.99999.1

for c in go yamllint prometheus-snmp-exporter snmptranslate; do
	command -v "$c" >/dev/null || die "$c is not installed (scripts/install-deps)"
done
/usr/bin/python3 -c 'import yaml' || die "python3-yaml is not installed"

# ---- build the renderer (offline, GOPATH mode against /usr/share/gocode)
case "$BUILD" in /*) tools="$BUILD/tools" ;; *) tools="$TOP/$BUILD/tools" ;; esac
mkdir -p "$tools"
R="$tools/helm-render"
(cd "$TOP/tests/tools/helm-render" &&
	GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOPROXY=off \
	GOCACHE="$tools/go-cache" go build -o "$R" .) >"$T/go-build.log" 2>&1 ||
	die "building tests/tools/helm-render (see go-build.log)"
ok "built $R"

render() { "$R" --name gvp --namespace voice "$@" "$CHART"; }
lint() {
	yamllint -s -c "$DATA/helm-yamllint.yaml" "$1" >"$T/yamllint.log" 2>&1 || {
		cat "$T/yamllint.log"; die "yamllint: $1"; }
	yamllint -d relaxed "$1" >/dev/null || die "yamllint -d relaxed: $1"
}

# ---- defaults
render >"$T/default.yaml" 2>"$T/render.log" || die "render with defaults"
lint "$T/default.yaml"
/usr/bin/python3 "$CHECK" default "$T/default.yaml" "$SNMPYML" || die "structural check (defaults)"
ok "chart renders with defaults: yamllint clean, structure as documented"

# ---- override file
render -f "$DATA/helm-override.yaml" >"$T/override.yaml" 2>"$T/render.log" || die "render with override"
lint "$T/override.yaml"
/usr/bin/python3 "$CHECK" override "$T/override.yaml" "$SNMPYML" || die "structural check (override)"
ok "chart renders with helm-override.yaml: overrides reach the ConfigMaps, postgres Secret, sidecar"

# ---- rm placement: pod anti-affinity and the PodDisruptionBudget (issue 13)
# rm_placement RENDERED WANT_AFFINITY WANT_PDB: the rm StatefulSet's anti-affinity is
# WANT_AFFINITY (preferred | required | none), spread by kubernetes.io/hostname over
# exactly the rm pods' labels; the rm PDB selects those pods with WANT_PDB
# ("maxUnavailable=1", "minAvailable=1", or "none").
rm_placement() {
	/usr/bin/python3 - "$@" <<'PY'
import sys, yaml
path, want_aff, want_pdb = sys.argv[1:4]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
sts = [d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"].endswith("-rm")][0]
pod_labels = sts["spec"]["template"]["metadata"]["labels"]
aff = sts["spec"]["template"]["spec"].get("affinity", {}).get("podAntiAffinity")
def fail(why):
    print("rm placement (%s): %s" % (path, why)); sys.exit(1)
if want_aff == "none":
    if aff: fail("anti-affinity rendered with antiAffinity none: %s" % aff)
else:
    key = {"preferred": "preferredDuringSchedulingIgnoredDuringExecution",
           "required": "requiredDuringSchedulingIgnoredDuringExecution"}[want_aff]
    if not aff or list(aff) != [key]: fail("want %s anti-affinity, got %s" % (want_aff, aff))
    term = aff[key][0]
    if want_aff == "preferred":
        if term.get("weight") != 100: fail("weight %s" % term.get("weight"))
        term = term["podAffinityTerm"]
    if term["topologyKey"] != "kubernetes.io/hostname": fail("topologyKey %s" % term["topologyKey"])
    ml = term["labelSelector"]["matchLabels"]
    if not ml or any(pod_labels.get(k) != v for k, v in ml.items()): fail("selector %s vs pod labels %s" % (ml, pod_labels))
    if ml.get("app.kubernetes.io/component", "rm") != "rm": fail("selector is not rm's: %s" % ml)
pdbs = [d for d in docs if d["kind"] == "PodDisruptionBudget" and d["metadata"]["name"].endswith("-rm")]
if want_pdb == "none":
    if pdbs: fail("a PDB rendered: %s" % pdbs[0]["spec"])
    sys.exit(0)
if len(pdbs) != 1: fail("%d rm PDBs" % len(pdbs))
spec = pdbs[0]["spec"]
k, v = want_pdb.split("=")
if {kk: vv for kk, vv in spec.items() if kk != "selector"} != {k: int(v)}: fail("PDB %s, want %s" % (spec, want_pdb))
ml = spec["selector"]["matchLabels"]
if any(pod_labels.get(kk) != vv for kk, vv in ml.items()): fail("PDB selector %s vs pod labels %s" % (ml, pod_labels))
PY
}
rm_placement "$T/default.yaml" preferred maxUnavailable=1 || die "rm placement (defaults)"
printf 'rm:\n  antiAffinity: required\n  podDisruptionBudget:\n    minAvailable: 1\n' >"$T/place1.yaml"
render -f "$T/place1.yaml" >"$T/place1.out" 2>"$T/render.log" || die "render with antiAffinity required"
rm_placement "$T/place1.out" required minAvailable=1 || die "rm placement (required, minAvailable)"
printf 'rm:\n  antiAffinity: none\n  replicas: 1\n' >"$T/place2.yaml"
render -f "$T/place2.yaml" >"$T/place2.out" 2>"$T/render.log" || die "render with antiAffinity none"
rm_placement "$T/place2.out" none none || die "rm placement (none, one replica)"
printf 'rm:\n  antiAffinity: sometimes\n' >"$T/place3.yaml"
if render -f "$T/place3.yaml" >"$T/place3.out" 2>&1; then die "antiAffinity \"sometimes\" rendered"; fi
grep -q "rm.antiAffinity" "$T/place3.out" || die "bad antiAffinity error: $(cat "$T/place3.out")"
ok "rm pods: preferred anti-affinity on kubernetes.io/hostname and a PDB of maxUnavailable 1 by default;" \
	"required / none / minAvailable on request; a bad antiAffinity refused"

# ---- rm accepts exactly the rm.json the chart renders (with the pod's RM_NODE_NAME)
# configmap_json RENDERED KEY OUT: the KEY (rm.json) of the ConfigMap that holds it.
configmap_json() {
	/usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "ConfigMap" and sys.argv[2] in (d.get("data") or {}):
        open(sys.argv[3], "w").write(d["data"][sys.argv[2]]); sys.exit(0)
sys.exit(f"no ConfigMap with {sys.argv[2]}")
PY
}
RM_BIN="$BIN/rm"
[ -x "$RM_BIN" ] || die "rm binary not built: $RM_BIN"
for v in default override; do
	configmap_json "$T/$v.yaml" rm.json "$T/rm-$v.json" || die "no rm.json in the $v render"
	RM_NODE_NAME=gvp-rm-1 "$RM_BIN" --check-config "$T/rm-$v.json" >"$T/rm-check.log" 2>&1 ||
		{ cat "$T/rm-check.log"; die "rm --check-config refuses the rm.json the chart renders ($v)"; }
done
if RM_NODE_NAME=$(printf 'n%.0s' $(seq 1 70)) "$RM_BIN" --check-config "$T/rm-default.json" \
	>"$T/rm-check.log" 2>&1; then
	die "rm accepted a 70-character RM_NODE_NAME"
fi
grep -q "RM_NODE_NAME" "$T/rm-check.log" || die "RM_NODE_NAME error does not name it: $(cat "$T/rm-check.log")"
ok "rm --check-config accepts the rendered rm.json (defaults and override; cluster, snmp, json logging, RM_NODE_NAME)"

# ---- STOMP credentials Secret and stompTLS: the rendered Secret, env and mounts fit
# together (helm_check_stomp.py), and rs/rm accept the rendered configs with the
# Secret's login and with certificates at the paths the pods mount them.
STOMP_CHECK="$HELPERS/helm_check_stomp.py"
RS_BIN="$BIN/rs"
[ -x "$RS_BIN" ] || die "rs binary not built: $RS_BIN"
mkdir -p "$T/sd" "$T/st"
/usr/bin/python3 "$STOMP_CHECK" default "$T/default.yaml" "$T/sd" || die "STOMP credentials (defaults)"
podify "$T/sd/rs.json"
RS_STOMP_LOGIN=$(cat "$T/sd/login") RS_STOMP_PASSCODE=$(cat "$T/sd/passcode") \
	"$RS_BIN" --check-config "$T/sd/rs.json" >"$T/rs-check.log" 2>&1 ||
	{ cat "$T/rs-check.log"; die "rs --check-config refuses the rendered rs.json with the Secret's login"; }
if env -u RS_STOMP_LOGIN "$RS_BIN" --check-config "$T/sd/rs.json" >"$T/rs-check.log" 2>&1; then
	die "rs accepted the rendered 0.0.0.0 listener without the Secret's login"
fi
ok "credentials Secret: login + random passcode, env of rs, init-db and rm; rs needs it on 0.0.0.0"

render -f "$DATA/helm-tls.yaml" >"$T/tls.yaml" 2>"$T/render.log" || die "render with helm-tls.yaml"
lint "$T/tls.yaml"
/usr/bin/python3 "$STOMP_CHECK" tls "$T/tls.yaml" "$T/st" || die "stompTLS structure"
# What the Secrets would hold, where the pods mount them.
M="$T/mnt"; mkdir -p "$M/gvp-tls" "$M/gvp-tls-client"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=ca \
	-keyout "$M/ca.key" -out "$M/gvp-tls/ca.crt" 2>/dev/null || die "openssl ca"
for d in gvp-tls gvp-tls-client; do
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$d" \
		-keyout "$M/$d/tls.key" -out "$M/$d.csr" 2>/dev/null &&
	openssl x509 -req -in "$M/$d.csr" -CA "$M/gvp-tls/ca.crt" -CAkey "$M/ca.key" \
		-CAcreateserial -days 2 -out "$M/$d/tls.crt" 2>/dev/null || die "openssl $d"
done
for j in rs rm; do
	sed "s#/etc/gvp-tls#$M/gvp-tls#g" "$T/st/$j.json" >"$T/st/$j-local.json"
	podify "$T/st/$j-local.json"
done
RS_STOMP_LOGIN=x RS_STOMP_PASSCODE=y "$RS_BIN" --check-config "$T/st/rs-local.json" >"$T/rs-check.log" 2>&1 ||
	{ cat "$T/rs-check.log"; die "rs --check-config refuses the rendered stomp.tls"; }
RM_NODE_NAME=gvp-rm-1 "$RM_BIN" --check-config "$T/st/rm-local.json" >"$T/rm-check.log" 2>&1 ||
	{ cat "$T/rm-check.log"; die "rm --check-config refuses the rendered billing.tls"; }
cp "$M/gvp-tls-client/tls.key" "$M/gvp-tls/tls.key" # the key no longer matches tls.crt
if RS_STOMP_LOGIN=x "$RS_BIN" --check-config "$T/st/rs-local.json" >"$T/rs-check.log" 2>&1; then
	die "rs --check-config accepted a key that does not match the certificate"
fi
grep -q "stomp.tls.key_file" "$T/rs-check.log" || die "mismatch error: $(cat "$T/rs-check.log")"
printf 'stompTLS:\n  enabled: true\n' >"$T/tls-nosecret.yaml"
if render -f "$T/tls-nosecret.yaml" >"$T/tls-nosecret.out" 2>&1; then
	die "stompTLS.enabled rendered without existingSecret"
fi
grep -q "stompTLS.existingSecret" "$T/tls-nosecret.out" || die "no-Secret error: $(cat "$T/tls-nosecret.out")"
ok "stompTLS: user Secrets mounted where rs.json/rm.json look; rs and rm load the certificates;" \
	"a mismatched key and a missing existingSecret are refused"

# ---- the check can fail: a wrong SIP port, a wrong probe path, a root user
cat >"$T/bad-port.yaml" <<'YAML'
rm:
  config:
    sip:
      port: 5061
YAML
cat >"$T/bad-probe.yaml" <<'YAML'
rs:
  config:
    stomp:
      port: 61617
YAML
cat >"$T/bad-root.yaml" <<'YAML'
podSecurityContext:
  runAsNonRoot: false
securityContext:
  runAsNonRoot: null
YAML
for bad in bad-port bad-probe bad-root; do
	render -f "$T/$bad.yaml" >"$T/$bad.out" 2>&1 || die "render with $bad.yaml"
	if /usr/bin/python3 "$CHECK" default "$T/$bad.out" "$SNMPYML" >"$T/$bad.log" 2>&1; then
		die "structural check accepted $bad.yaml"
	fi
done
ok "structural check refuses a moved SIP port, a moved STOMP port, a root pod"
printf 'rm:\n  image: {repository: x, tag: "{{"}\n' >"$T/bad-tpl.yaml"
render -f "$T/bad-tpl.yaml" >/dev/null 2>&1 || die "values are data, not templates"
cmp -s "$CHART/files/snmp.yml" "$SNMPYML" || die "helm/gvp/files/snmp.yml differs from etc/snmp-exporter/snmp.yml"

# ---- prometheus-snmp-exporter module config
prometheus-snmp-exporter --config.file="$SNMPYML" --dry-run >"$T/exporter.log" 2>&1 ||
	{ cat "$T/exporter.log"; die "prometheus-snmp-exporter --dry-run refused $SNMPYML"; }
for m in gvp_rm gvp_rs; do grep -q "^$m:" "$SNMPYML" || die "module $m missing"; done
sed 's/^  walk:$/  walkk:/' "$SNMPYML" >"$T/bad-snmp.yml"
if prometheus-snmp-exporter --config.file="$T/bad-snmp.yml" --dry-run >/dev/null 2>&1; then
	die "prometheus-snmp-exporter accepted a broken config (the check proves nothing)"
fi
yamllint -d relaxed "$SNMPYML" >/dev/null || die "yamllint $SNMPYML"
ok "prometheus-snmp-exporter --dry-run accepts snmp.yml (modules gvp_rm, gvp_rs)"

# ---- MIBs. Debian main has no IETF MIBs; use them if installed, else the stand-ins.
SMI="$DATA/helm-smi-stubs"
for d in /usr/share/snmp/mibs/ietf /usr/share/mibs/ietf; do
	[ -f "$d/SNMPv2-SMI" ] && SMI="$d"
done
tr() { MIBS= snmptranslate -M "$TOP/etc/mibs:$SMI" -m GVP-RM-MIB:GVP-RS-MIB "$@"; }
tr -On GVP-RM-MIB::gvpRmMIB >"$T/mib.out" 2>"$T/mib.err" || die "snmptranslate"
# net-snmp's first run on a machine notes "Created directory: /var/lib/snmp/..."
sed -i '/^Created directory: /d' "$T/mib.err"
[ -s "$T/mib.err" ] && { cat "$T/mib.err"; die "net-snmp complains about the MIBs"; }
[ "$(cat "$T/mib.out")" = ".$BASE.1" ] || die "gvpRmMIB is $(cat "$T/mib.out"), not .$BASE.1"
# every row of the layout tables in etc/mibs/README.md: BASE.x.y... -> name
n=0
while read -r oid name; do
	want=".$BASE${oid#BASE}"; want=${want%.0}; want=${want%.i}
	mod=GVP-RM-MIB; case "$name" in rs*) mod=GVP-RS-MIB ;; esac
	got=$(tr -On "$mod::$name" 2>&1) || die "snmptranslate $mod::$name: $got"
	[ "$got" = "$want" ] || die "$name is $got in the MIB but $want in etc/mibs/README.md"
	n=$((n + 1))
done < <(awk -F'|' '$2 ~ /^ BASE\./ { gsub(/ /, "", $2); gsub(/ /, "", $3); print $2, $3 }' "$TOP/etc/mibs/README.md")
[ "$n" -ge 40 ] || die "only $n OIDs found in the README tables"
tr -On GVP-RM-MIB::rmNoSuchObject >/dev/null 2>&1 && die "snmptranslate resolved a made-up name"
tr -Td GVP-RS-MIB::rsDbState | grep -q 'up(1), down(2)' || die "rsDbState enumeration"
ok "MIBs load in net-snmp; all $n OIDs of etc/mibs/README.md match the MIBs"
if command -v smilint >/dev/null; then
	for m in RM RS; do
		SMIPATH="$SMI" smilint -l 4 "$TOP/etc/mibs/GVP-$m-MIB.txt" >"$T/smilint.log" 2>&1
		[ -s "$T/smilint.log" ] && { cat "$T/smilint.log"; die "smilint GVP-$m-MIB"; }
	done
	ok "smilint: no errors or style warnings"
else
	echo "note: smilint (package smitools) not installed, SMIv2 lint skipped"
fi
