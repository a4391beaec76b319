#!/usr/bin/python3
"""Structural check of manifests rendered from helm/gvp.

usage: helm_check.py default|override RENDERED.yaml SNMP_YML

`default` checks the chart rendered with its values.yaml only, `override` with
tests/integration/data/helm-override.yaml on top. The expected numbers (ports,
replicas, probes) are the documented ones, written here on purpose: a chart whose
values drift from them fails. Prints one line per failed check and exits 1, or
prints a summary and exits 0.
"""
import json
import sys

import yaml

FAILS = []
CHECKS = [0]


def check(cond, what):
    CHECKS[0] += 1
    if not cond:
        FAILS.append(what)
    return cond


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def named(docs, kind, suffix):
    found = [d for d in by_kind(docs, kind) if d["metadata"]["name"].endswith(suffix)]
    check(len(found) == 1, f"exactly one {kind} named *{suffix} (found {len(found)})")
    return found[0] if found else None


def container(pod_spec, name, init=False):
    key = "initContainers" if init else "containers"
    for c in pod_spec.get(key) or []:
        if c.get("name") == name:
            return c
    return None


def port_number(c, port):
    """A probe's or Service's port (number or name) as a number, via the container."""
    if isinstance(port, int):
        return port
    for p in c.get("ports") or []:
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def container_ports(c):
    return {(p["containerPort"], p.get("protocol", "TCP")) for p in c.get("ports") or []}


def selects(service, sts):
    sel = service["spec"].get("selector") or {}
    labels = sts["spec"]["template"]["metadata"].get("labels") or {}
    return bool(sel) and all(labels.get(k) == v for k, v in sel.items())


def service_ports(svc, c):
    """{(port, protocol)} of a Service, after checking each targetPort reaches c."""
    out = set()
    for p in svc["spec"].get("ports") or []:
        proto = p.get("protocol", "TCP")
        target = port_number(c, p.get("targetPort", p["port"]))
        check((target, proto) in container_ports(c),
              f"Service {svc['metadata']['name']} port {p['port']}/{proto}: targetPort "
              f"{p.get('targetPort')} reaches no {proto} port of container {c['name']}")
        out.add((p["port"], proto))
    return out


def config_json(cm, key):
    data = (cm or {}).get("data") or {}
    if not check(key in data, f"ConfigMap {cm and cm['metadata']['name']} has {key}"):
        return {}
    try:
        return json.loads(data[key])
    except ValueError as e:
        check(False, f"{key} in its ConfigMap is not valid JSON: {e}")
        return {}


def check_security(sts, what):
    pod = sts["spec"]["template"]["spec"]
    psc = pod.get("securityContext") or {}
    check(psc.get("runAsNonRoot") is True, f"{what}: pod securityContext.runAsNonRoot true")
    check(psc.get("runAsUser") == 10001, f"{what}: pod securityContext.runAsUser 10001")
    for c in (pod.get("initContainers") or []) + pod["containers"]:
        sc = c.get("securityContext") or {}
        n = f"{what}: container {c['name']}"
        check(sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True, f"{n} runs as non-root")
        check(sc.get("runAsUser", psc.get("runAsUser")) == 10001, f"{n} runAsUser 10001")
        check(sc.get("readOnlyRootFilesystem") is True, f"{n} readOnlyRootFilesystem")
        check(sc.get("allowPrivilegeEscalation") is False, f"{n} allowPrivilegeEscalation false")
        check("ALL" in ((sc.get("capabilities") or {}).get("drop") or []), f"{n} drops ALL capabilities")
        res = c.get("resources") or {}
        check(res.get("requests") and res.get("limits"), f"{n} has resource requests and limits")
        check(":" in c.get("image", "") and not c["image"].endswith(":"), f"{n} image has a tag")


def check_annotations(sts, port, what):
    ann = sts["spec"]["template"]["metadata"].get("annotations") or {}
    check(ann.get("prometheus.io/scrape") == "true", f"{what}: prometheus.io/scrape \"true\"")
    check(ann.get("prometheus.io/port") == str(port), f"{what}: prometheus.io/port \"{port}\"")
    check(ann.get("prometheus.io/path") == "/metrics", f"{what}: prometheus.io/path /metrics")


def check_http_probe(c, probe, path, port, what):
    p = c.get(probe) or {}
    hg = p.get("httpGet")
    if check(hg is not None, f"{what}: {probe} is httpGet"):
        check(hg.get("path") == path, f"{what}: {probe} path {path} (got {hg.get('path')})")
        check(port_number(c, hg.get("port")) == port, f"{what}: {probe} port {port}")


def check_pvc_mount(sts, c, path, what):
    claims = [t["metadata"]["name"] for t in sts["spec"].get("volumeClaimTemplates") or []]
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts") or []}
    check(mounts.get(path) in claims, f"{what}: a volumeClaimTemplate PVC is mounted at {path}")


def check_configmap_volumes(docs, sts, what):
    cms = {d["metadata"]["name"] for d in by_kind(docs, "ConfigMap")}
    for v in sts["spec"]["template"]["spec"].get("volumes") or []:
        if "configMap" in v:
            check(v["configMap"]["name"] in cms, f"{what}: volume {v['name']} names an existing ConfigMap")


def main():
    mode, rendered, snmp_yml = sys.argv[1], sys.argv[2], sys.argv[3]
    assert mode in ("default", "override")
    over = mode == "override"
    with open(rendered) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    for d in docs:
        check("apiVersion" in d and "kind" in d and "name" in d.get("metadata", {}),
              f"document has apiVersion, kind, metadata.name: {str(d)[:80]}")

    # kinds
    check(len(by_kind(docs, "StatefulSet")) == 2, "two StatefulSets")
    check(len(by_kind(docs, "Service")) >= 3, "at least three Services")
    check(len(by_kind(docs, "ConfigMap")) >= 2, "at least two ConfigMaps")
    rm = named(docs, "StatefulSet", "-rm")
    rs = named(docs, "StatefulSet", "-rs")
    rm_cm = named(docs, "ConfigMap", "-rm")
    rs_cm = named(docs, "ConfigMap", "-rs")
    if not (rm and rs):
        return
    rm_cfg = config_json(rm_cm, "rm.json")
    rs_cfg = config_json(rs_cm, "rs.json")

    # ---- rm
    rm_pod = rm["spec"]["template"]["spec"]
    rmc = container(rm_pod, "rm")
    if not check(rmc is not None, "rm StatefulSet has container rm"):
        return
    replicas = 3 if over else 2
    check(rm["spec"].get("replicas") == replicas, f"rm replicas {replicas} (got {rm['spec'].get('replicas')})")
    check(selects({"spec": {"selector": rm["spec"]["selector"]["matchLabels"]}}, rm),
          "rm selector matches its pod labels")
    for port in [(5060, "UDP"), (5060, "TCP"), (9801, "TCP"), (8300, "TCP")]:
        check(port in container_ports(rmc), f"rm container port {port[0]}/{port[1]}")
    check_http_probe(rmc, "livenessProbe", "/healthz", 8300, "rm")
    check_http_probe(rmc, "readinessProbe", "/readyz", 8300, "rm")
    check_pvc_mount(rm, rmc, "/var/spool/rm", "rm")
    check(rm_cfg.get("billing", {}).get("spool_dir") == "/var/spool/rm", "rm.json billing.spool_dir is the PVC mount")
    check(["-c", "/etc/gvp/rm.json"] == rmc.get("args"), "rm runs with -c /etc/gvp/rm.json")
    mounts = {m["mountPath"]: m["name"] for m in rmc.get("volumeMounts") or []}
    cfgvol = [v for v in rm_pod.get("volumes") or [] if v["name"] == mounts.get("/etc/gvp")]
    check(cfgvol and cfgvol[0].get("configMap", {}).get("name") == rm_cm["metadata"]["name"],
          "rm mounts its ConfigMap at /etc/gvp")
    check_security(rm, "rm")
    check_annotations(rm, 8300, "rm")
    check_configmap_volumes(docs, rm, "rm")

    rm_svcs = [s for s in by_kind(docs, "Service") if selects(s, rm)]
    headless = [s for s in rm_svcs if s["spec"].get("clusterIP") == "None"]
    if check(len(headless) == 1, "one headless Service selects the rm pods"):
        h = headless[0]
        check(rm["spec"].get("serviceName") == h["metadata"]["name"], "rm serviceName is the headless Service")
        check((9801, "TCP") in service_ports(h, rmc), "rm headless Service exposes 9801/TCP")
        check(h["spec"].get("publishNotReadyAddresses") is True, "rm headless Service publishes not-ready peers")
    sip = [s for s in rm_svcs if s["spec"].get("clusterIP") != "None"]
    if check(len(sip) == 1, "one SIP Service selects the rm pods"):
        sp = service_ports(sip[0], rmc)
        check((5060, "UDP") in sp and (5060, "TCP") in sp, "SIP Service has 5060/UDP and 5060/TCP")
        check(sip[0]["spec"].get("type") == ("LoadBalancer" if over else "ClusterIP"), "SIP Service type from values")
    peers = rm_cfg.get("cluster", {}).get("peers") or []
    check(len(peers) == replicas and all(p.endswith(":9801") for p in peers),
          f"rm.json cluster.peers lists the {replicas} rm pods on 9801")
    check(rm_cfg.get("sip", {}).get("port") == 5060, "rm.json sip.port 5060")
    check(rm_cfg.get("http", {}).get("port") == 8300, "rm.json http.port 8300")
    rs_svc_names = [s["metadata"]["name"] for s in by_kind(docs, "Service") if selects(s, rs)]
    eps = rm_cfg.get("billing", {}).get("endpoints") or []
    check(eps and all(e.split(".")[0] in rs_svc_names and e.endswith(":61616") for e in eps),
          f"rm.json billing.endpoints point at the rs Service on 61616 ({eps})")

    # ---- rs
    rs_pod = rs["spec"]["template"]["spec"]
    rsc = container(rs_pod, "rs")
    if not check(rsc is not None, "rs StatefulSet has container rs"):
        return
    for port in [(61616, "TCP"), (8080, "TCP")]:
        check(port in container_ports(rsc), f"rs container port {port[0]}/{port[1]}")
    lp = rsc.get("livenessProbe") or {}
    if check("tcpSocket" in lp, "rs livenessProbe is tcpSocket"):
        check(port_number(rsc, lp["tcpSocket"].get("port")) == 61616, "rs livenessProbe port 61616")
    check_http_probe(rsc, "readinessProbe", "/readyz", 8080, "rs")
    check_pvc_mount(rs, rsc, "/var/lib/rs", "rs")
    check(rs_cfg.get("journal", {}).get("dir", "").startswith("/var/lib/rs/"), "rs.json journal.dir is on the PVC")
    check_security(rs, "rs")
    check_annotations(rs, 8080, "rs")
    check_configmap_volumes(docs, rs, "rs")
    rs_svcs = [s for s in by_kind(docs, "Service") if selects(s, rs)]
    check(any(s["spec"].get("clusterIP") == "None" and s["metadata"]["name"] == rs["spec"].get("serviceName")
              for s in rs_svcs), "rs serviceName is a headless Service selecting the rs pods")
    check(any({(61616, "TCP"), (8080, "TCP")} <= service_ports(s, rsc) for s in rs_svcs
              if s["spec"].get("clusterIP") != "None"), "an rs Service exposes 61616 and 8080")
    check(rs_cfg.get("stomp", {}).get("port") == 61616, "rs.json stomp.port 61616")
    check(rs_cfg.get("http", {}).get("port") == 8080, "rs.json http.port 8080")

    # ---- the cluster key from a Secret (RM_CLUSTER_KEY)
    ck = [e for e in rmc.get("env") or [] if e.get("name") == "RM_CLUSTER_KEY"]
    ref = ck and ck[0].get("valueFrom", {}).get("secretKeyRef") or {}
    check(ref.get("name") == "gvp-rm-cluster" and ref.get("key") == "key",
          "rm: RM_CLUSTER_KEY from secretKeyRef gvp-rm-cluster/key")
    check(any(d["metadata"]["name"] == "gvp-rm-cluster" and len(d.get("data", {}).get("key", "")) >= 24
              for d in by_kind(docs, "Secret")), "a Secret gvp-rm-cluster holds a key")

    # ---- PostgreSQL from a Secret
    def pg_env(c):
        return [e for e in (c or {}).get("env") or [] if e.get("name") == "RS_PG_URL"]
    init = container(rs_pod, "init-db", init=True)
    check(init is not None and "--init" in (init.get("args") or []), "rs has an init-db container running --init")
    backend = rs_cfg.get("storage", {}).get("backend")
    if over:
        for c in (rsc, init):
            env = pg_env(c)
            ref = env and env[0].get("valueFrom", {}).get("secretKeyRef") or {}
            check(ref.get("name") == "gvp-postgres" and ref.get("key") == "url",
                  f"{c and c['name']}: RS_PG_URL from secretKeyRef gvp-postgres/url")
        check(backend == "postgresql", f"rs.json storage.backend postgresql (got {backend})")
    else:
        check(not pg_env(rsc), "no RS_PG_URL without postgres.existingSecret")
        check(backend == "sqlite", f"rs.json storage.backend sqlite (got {backend})")
        check(rs_cfg.get("storage", {}).get("sqlite", {}).get("path", "").startswith("/var/lib/rs/"),
              "rs.json SQLite file is on the PVC")

    # ---- overrides reaching the ConfigMaps (and defaults when not overridden)
    level = rm_cfg.get("logging", {}).get("level")
    check(level == ("debug" if over else "info"), f"rm.json logging.level (got {level})")
    lrgs = [(g.get("name"), g.get("scheme")) for g in rm_cfg.get("lrgs") or []]
    want = [("ivr", "least-used"), ("conference", "weighted")] if over else [("ivr", "round-robin")]
    check(lrgs == want, f"rm.json lrgs {want} (got {lrgs})")
    check(rm_cfg.get("snmp", {}).get("enabled") is over, "rm.json snmp.enabled from values")
    check(rm_cfg.get("snmp", {}).get("base_oid") == "1.3.6.1.4.1.99999.1", "rm.json snmp.base_oid")
    bm = rs_cfg.get("writer", {}).get("batch_max")
    check(bm == (2000 if over else 5000), f"rs.json writer.batch_max (got {bm})")
    if over:
        check("sqlite" not in rs_cfg.get("storage", {}), "null in an override file deletes rs.json storage.sqlite")
    check(rm_cfg.get("monitor", {}).get("interval_ms") == 2000, "untouched rm.json values survive the merge")

    # ---- snmp-exporter sidecar
    se_cms = [d for d in by_kind(docs, "ConfigMap") if d["metadata"]["name"].endswith("-snmp-exporter")]
    for sts, n in ((rm, "rm"), (rs, "rs")):
        side = container(sts["spec"]["template"]["spec"], "snmp-exporter")
        if over:
            if check(side is not None, f"{n} pod has the snmp-exporter sidecar"):
                check((9116, "TCP") in container_ports(side), f"{n} snmp-exporter sidecar listens on 9116")
        else:
            check(side is None, f"{n} pod has no snmp-exporter sidecar by default")
    if over:
        if check(len(se_cms) == 1, "one snmp-exporter ConfigMap"):
            text = (se_cms[0].get("data") or {}).get("snmp.yml", "")
            cfg = yaml.safe_load(text) or {}
            check({"gvp_rm", "gvp_rs"} <= set(cfg), "snmp-exporter ConfigMap has modules gvp_rm and gvp_rs")
            with open(snmp_yml) as f:
                check(text.strip() == f.read().strip(),
                      "snmp-exporter ConfigMap equals etc/snmp-exporter/snmp.yml (helm/gvp/files/snmp.yml is a copy)")
    else:
        check(not se_cms, "no snmp-exporter ConfigMap by default")


if __name__ == "__main__":
    try:
        main()
    except (KeyError, TypeError, AttributeError, IndexError) as e:
        FAILS.append(f"unexpected manifest structure: {type(e).__name__}: {e}")
    for f in FAILS:
        print(f"FAIL: {f}")
    if FAILS:
        sys.exit(1)
    print(f"ok: {CHECKS[0]} structural checks ({sys.argv[1]})")
