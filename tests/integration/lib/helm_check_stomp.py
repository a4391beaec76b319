#!/usr/bin/python3
"""Structural check of the STOMP credentials Secret and stompTLS in a helm/gvp render.

usage: helm_check_stomp.py default|tls RENDERED.yaml OUT_DIR

default: the chart's own values. One generated Secret *-stomp with a login and a
  random passcode (>= 16 characters); the rs container and its init-db container get
  RS_STOMP_LOGIN / RS_STOMP_PASSCODE from it, the rm container RM_BILLING_LOGIN /
  RM_BILLING_PASSCODE; no TLS anywhere. Writes OUT_DIR/login and OUT_DIR/passcode.
tls: tests/integration/data/helm-tls.yaml on top (stompCredentials.existingSecret
  gvp-creds, stompTLS from gvp-stomp-tls with requireClientCert and clientSecret
  gvp-rm-client). No Secret is generated; the env refers to gvp-creds; rs and init-db
  mount gvp-stomp-tls at /etc/gvp-tls; rm mounts only its ca.crt there and
  gvp-rm-client at /etc/gvp-tls-client; every file that rs.json stomp.tls and rm.json
  billing.tls name lies under a mount of the container that reads it.
Writes OUT_DIR/rs.json and OUT_DIR/rm.json. Prints one line per failed check and
exits 1, or a summary and exits 0.
"""
import base64
import json
import os
import sys

import yaml

FAILS = []
CHECKS = [0]


def check(cond, what):
    CHECKS[0] += 1
    if not cond:
        FAILS.append(what)
    return cond


def one(docs, kind, suffix):
    f = [d for d in docs if d.get("kind") == kind and d["metadata"]["name"].endswith(suffix)]
    check(len(f) == 1, f"exactly one {kind} *{suffix} (found {len(f)})")
    return f[0] if f else {}


def containers(sts, init=False):
    spec = sts.get("spec", {}).get("template", {}).get("spec", {})
    return {c["name"]: c for c in spec.get("initContainers" if init else "containers") or []}


def env_refs(c):
    out = {}
    for e in c.get("env") or []:
        ref = (e.get("valueFrom") or {}).get("secretKeyRef")
        if ref:
            out[e["name"]] = (ref["name"], ref["key"])
    return out


def volumes(sts):
    return {v["name"]: v for v in sts["spec"]["template"]["spec"].get("volumes") or []}


def mounts(c):
    return {m["mountPath"]: m["name"] for m in c.get("volumeMounts") or []}


def config(docs, key):
    for d in docs:
        if d.get("kind") == "ConfigMap" and key in (d.get("data") or {}):
            return json.loads(d["data"][key])
    check(False, f"a ConfigMap with {key}")
    return {}


def check_env(c, who, prefix, secret):
    refs = env_refs(c)
    for k in ("login", "passcode"):
        name = f"{prefix}_{k.upper()}"
        check(refs.get(name) == (secret, k), f"{who}: env {name} from Secret {secret} key {k}"
              f" (got {refs.get(name)})")


def check_files(c, who, tls, vols, secret_of):
    """Each *_file of tls under a read-only mount of c whose Secret has that key."""
    m = mounts(c)
    for k in ("cert_file", "key_file", "ca_file"):
        f = tls.get(k)
        if not f:
            continue
        d, base = os.path.dirname(f), os.path.basename(f)
        vol = vols.get(m.get(d, ""), {})
        sec = vol.get("secret", {})
        items = [i["path"] for i in sec.get("items") or []]
        check(sec.get("secretName") == secret_of.get(m.get(d)),
              f"{who}: {k} {f} is not under the expected Secret mount (mounts {m})")
        check(not items or base in items, f"{who}: {k} {f}: {base} not among items {items}")


def main():
    mode, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    rs, rm = one(docs, "StatefulSet", "-rs"), one(docs, "StatefulSet", "-rm")
    rsc, rmc = containers(rs), containers(rm)
    init = containers(rs, True).get("init-db", {})
    rsj, rmj = config(docs, "rs.json"), config(docs, "rm.json")
    secrets = [d for d in docs if d.get("kind") == "Secret"
               and not d["metadata"]["name"].endswith("-rm-cluster")]  # the cluster key
    if mode == "default":
        s = one(docs, "Secret", "-stomp")
        name = s.get("metadata", {}).get("name")
        data = {k: base64.b64decode(v).decode() for k, v in (s.get("data") or {}).items()}
        check(data.get("login") == "gvp", f"Secret login gvp (got {data.get('login')!r})")
        check(len(data.get("passcode", "")) >= 16, "Secret passcode of >= 16 characters")
        for k in ("login", "passcode"):
            open(os.path.join(out, k), "w").write(data.get(k, ""))
        check_env(rsc.get("rs", {}), "rs", "RS_STOMP", name)
        check_env(init, "rs init-db", "RS_STOMP", name)
        check_env(rmc.get("rm", {}), "rm", "RM_BILLING", name)
        check("tls" not in rsj.get("stomp", {}), "rs.json: no stomp.tls by default")
        check("tls" not in rmj.get("billing", {}), "rm.json: no billing.tls by default")
        check(not any("tls" in v for v in volumes(rs)), "rs: no TLS volume by default")
    else:
        check(not secrets, f"no Secret generated with existingSecret (got {len(secrets)})")
        check_env(rsc.get("rs", {}), "rs", "RS_STOMP", "gvp-creds")
        check_env(init, "rs init-db", "RS_STOMP", "gvp-creds")
        check_env(rmc.get("rm", {}), "rm", "RM_BILLING", "gvp-creds")
        st, bt = rsj.get("stomp", {}).get("tls", {}), rmj.get("billing", {}).get("tls", {})
        check(st.get("enabled") is True and st.get("require_client_cert") is True,
              f"rs.json stomp.tls enabled, require_client_cert (got {st})")
        check(bt.get("enabled") is True and bt.get("verify") is True and bt.get("cert_file"),
              f"rm.json billing.tls enabled, verify, cert_file (got {bt})")
        srs = {"stomp-tls": "gvp-stomp-tls"}
        srm = {"stomp-tls": "gvp-stomp-tls", "stomp-tls-client": "gvp-rm-client"}
        check_files(rsc.get("rs", {}), "rs", st, volumes(rs), srs)
        check_files(init, "rs init-db", st, volumes(rs), srs)
        check_files(rmc.get("rm", {}), "rm", bt, volumes(rm), srm)
        rmtls = volumes(rm).get("stomp-tls", {}).get("secret", {})
        check([i["key"] for i in rmtls.get("items") or []] == ["ca.crt"],
              f"rm mounts only ca.crt of the server's Secret (got {rmtls})")
    json.dump(rsj, open(os.path.join(out, "rs.json"), "w"))
    json.dump(rmj, open(os.path.join(out, "rm.json"), "w"))
    for f in FAILS:
        print("FAIL:", f)
    if FAILS:
        return 1
    print(f"helm_check_stomp {mode}: {CHECKS[0]} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
