#!/usr/bin/python3
"""Headless-Chromium check of rs's dashboard (selenium + Debian's chromium-driver).

  dashboard_check.py HTTP_PORT OUT_DIR

Opens http://127.0.0.1:HTTP_PORT/, waits for the live usage table, saves
OUT_DIR/dashboard.png, and asserts that the numbers shown for every tenant and every
component equal /ems-rs/RT/tenants/usage's and /ems-rs/RT/components/usage's. Then, for the report endpoints:
  peaks  (/ems-rs/operations/peaks/RM): the chart's bucket count and highest peak equal
         the API's for the same range and granularity;
  cdrs   (/ems-rs/HIST/CDRs/RM/details): the rows shown (ids, in order) and the total
         equal the API's, page 1 and page 2 (cursor), and the CSV link answers text/csv;
  zone   a time zone typed into the page (Asia/Kolkata) reaches the usage request and
         the stream as tz=, and the table then equals the API's answer in that zone.
An endpoint that does not answer 200 fails the check. Exit 0 when every assertion
held.

  dashboard_check.py HTTP_PORT OUT_DIR hostile

After rt_usage_peer.py hostile: every HOSTILE name is shown as text, exactly, in
the live tenants table, the components table and the CDR table (tenant, caller,
mcp); the page holds no element it did not hold before the data came (no img, svg,
iframe, object, no script beyond its own two), no cell carries class "x", and no
script ran (window.__pwned unset). Saves OUT_DIR/dashboard-hostile.png.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

NUMBERS = ["in_progress", "arrivals_this_hour", "arrivals_today", "peak_today", "peak_today_at"]


def api(port, path):
    try:
        r = urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5)
        return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def wait(pred, seconds, what):
    end = time.time() + seconds
    last = None
    while time.time() < end:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # the DOM may be mid-update
            last = e
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} ({last})")


def shown_tenants(d):
    rows = {}
    for tr in d.find_elements(By.CSS_SELECTOR, "#tenants tbody tr"):
        t = tr.get_attribute("data-tenant")
        rows[t] = {n: tr.find_element(By.CSS_SELECTOR, "td." + n).text for n in NUMBERS}
    return rows


def shown_components(d):
    rows = {}
    for tr in d.find_elements(By.CSS_SELECTOR, "#components tbody tr"):
        # the table sits in a closed <details>: read textContent, not the visible text
        rows[tr.get_attribute("data-component")] = {
            n: tr.find_element(By.CSS_SELECTOR, "td." + n).get_attribute("textContent")
            for n in NUMBERS}
    return rows


def check_components(d, port):
    def same():
        code, _, body = api(port, "/ems-rs/RT/components/usage")
        assert code == 200, body
        want = {c["type"] + " " + c["id"]: {n: str(c[n]) for n in NUMBERS}
                for c in json.loads(body)["components"]}
        return want if want and shown_components(d) == want else None
    want = wait(same, 10, "the components table to equal /ems-rs/RT/components/usage")
    print(f"components shown equal the API: {', '.join(sorted(want))}")


def check_live(d, port, tz=None):
    """The table equals the API's answer (retried while a stream update is in flight)."""
    def same():
        code, _, body = api(port, "/ems-rs/RT/tenants/usage"
                            + ("?tz=" + urllib.parse.quote(tz, safe="") if tz else ""))
        assert code == 200, body
        want = {t["tenant"]: {n: str(t[n]) for n in NUMBERS} for t in json.loads(body)["tenants"]}
        got = shown_tenants(d)
        return want if want and got == want else None
    want = wait(same, 10, "the live table to equal /ems-rs/RT/tenants/usage")
    print(f"live usage{' in ' + tz if tz else ''} shown equals the API for {len(want)} tenants: "
          + ", ".join(f"{t} in_progress={v['in_progress']}" for t, v in sorted(want.items())))


def set_input(d, el_id, value):
    d.execute_script("document.getElementById(arguments[0]).value = arguments[1];", el_id, value)


def check_zone(d, port, tz):
    """A zone typed into the page goes to the usage request and the stream as tz=."""
    set_input(d, "tz", tz)
    d.find_element(By.CSS_SELECTOR, "#tz-form button").click()
    q = "tz=" + urllib.parse.quote(tz, safe="")

    def asked():
        # the fetch shows in the resource timings once answered; the stream never
        # ends, so its URL is read from the page's EventSource
        urls = d.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
            ".concat([source ? source.url : '']);")
        return all(any(p in u and q in u for u in urls)
                   for p in ("/ems-rs/RT/tenants/usage", "/ems-rs/RT/stream"))
    wait(asked, 10, f"the usage request and the stream with {q}")
    wait(lambda: "live" in d.find_element(By.ID, "live-state").get_attribute("class"),
         10, "the live stream in " + tz)
    check_live(d, port, tz)


def check_peaks(d, port, frm):
    q = urllib.parse.urlencode({"granularity": "HOUR", "from": frm + ":00Z"})
    code, _, body = api(port, "/ems-rs/operations/peaks/RM?" + q)
    assert code == 200, f"peaks endpoint: HTTP {code} {body[:200]}"
    want = json.loads(body)
    set_input(d, "peaks-from", frm)
    set_input(d, "peaks-gran", "HOUR")
    d.find_element(By.CSS_SELECTOR, "#peaks-form button").click()
    box = d.find_element(By.ID, "peaks-chart")
    n = len(want["buckets"])
    wait(lambda: box.get_attribute("data-buckets") == str(n), 10, f"{n} buckets in the chart")
    top = max([b["peak"] for b in want["buckets"]] + [0])
    assert box.get_attribute("data-peak-max") == str(top), \
        f"chart peak {box.get_attribute('data-peak-max')} != API {top}"
    assert d.find_elements(By.CSS_SELECTOR, "#peaks-chart canvas"), "no chart drawn"
    print(f"peaks chart: {n} HOUR buckets, highest peak {top}, equal to the API")


def check_cdrs(d, port, frm, out):
    base = {"from": frm + ":00Z", "limit": "2"}
    code, _, body = api(port, "/ems-rs/HIST/CDRs/RM/details?" + urllib.parse.urlencode(base))
    assert code == 200, f"CDR details endpoint: HTTP {code} {body[:200]}"
    page1 = json.loads(body)
    set_input(d, "cdr-from", frm)
    set_input(d, "cdr-limit", "2")
    d.find_element(By.CSS_SELECTOR, "#cdr-form button").click()
    ids = [r["id"] for r in page1["records"]]

    def shown_ids():
        return [tr.get_attribute("data-id") for tr in
                d.find_elements(By.CSS_SELECTOR, "#cdr-table tbody tr")]
    wait(lambda: shown_ids() == ids, 10, f"page 1 rows {ids}")
    total = d.find_element(By.ID, "cdr-total").get_attribute("data-total")
    assert total == str(page1["total"]), f"total shown {total} != API {page1['total']}"
    if page1.get("next"):
        code, _, body = api(port, "/ems-rs/HIST/CDRs/RM/details?" + urllib.parse.urlencode(
            dict(base, cursor=page1["next"])))
        assert code == 200, body
        ids2 = [r["id"] for r in json.loads(body)["records"]]
        d.find_element(By.ID, "cdr-next").click()
        wait(lambda: shown_ids() == ids2, 10, f"page 2 rows {ids2}")
    href = d.find_element(By.ID, "cdr-csv").get_attribute("href")
    code, ctype, body = api(port, urllib.parse.urlsplit(href)._replace(
        scheme="", netloc="").geturl())
    assert code == 200 and ctype.startswith("text/csv"), f"CSV link: {code} {ctype}"
    d.save_screenshot(os.path.join(out, "dashboard-cdrs.png"))
    print(f"CDR search: page rows and total {page1['total']} equal the API; CSV link answers")


def check_hostile(d, port, out):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from rt_usage_peer import HOSTILE

    def names():
        return {tr.get_attribute("data-tenant"): tr.find_element(
            By.CSS_SELECTOR, "td.name").get_attribute("textContent")
            for tr in d.find_elements(By.CSS_SELECTOR, "#tenants tbody tr")}
    wait(lambda: all(h in names() for h in HOSTILE), 10, "the hostile tenants in the table")
    for h in HOSTILE:
        assert names()[h] == h, f"tenant {h!r} shown as {names()[h]!r}"
    comps = [tr.get_attribute("data-component") for tr in
             d.find_elements(By.CSS_SELECTOR, "#components tbody tr")]
    for h in HOSTILE:
        assert "MCP sip:" + h in comps, f"MCP sip:{h!r} not shown as text: {comps}"
    frm = time.strftime("%Y-%m-%dT%H:00", time.gmtime(time.time() - 2 * 3600))
    set_input(d, "cdr-from", frm)
    set_input(d, "cdr-limit", "50")
    d.find_element(By.CSS_SELECTOR, "#cdr-form button").click()

    def cdr_cells():
        return [td.get_attribute("textContent") for td in d.find_elements(
            By.CSS_SELECTOR, "#cdr-table tbody td.tenant, #cdr-table tbody td.caller,"
            " #cdr-table tbody td.mcp")]
    wait(lambda: all(h in cdr_cells() for h in HOSTILE), 10, "the hostile CDRs in the table")
    d.save_screenshot(os.path.join(out, "dashboard-hostile.png"))
    counts = d.execute_script(
        "return {img: document.querySelectorAll('img').length,"
        " svg: document.querySelectorAll('svg').length,"
        " iframe: document.querySelectorAll('iframe, object, embed').length,"
        " script: document.querySelectorAll('script').length,"
        " x: document.querySelectorAll('.x').length,"
        " pwned: window.__pwned === undefined ? 0 : window.__pwned};")
    want = {"img": 0, "svg": 0, "iframe": 0, "script": 2, "x": 0, "pwned": 0}
    assert counts == want, f"injected into the page: {counts}, want {want}"
    print(f"{len(HOSTILE)} hostile names shown as text in tenants, components and CDRs;"
          f" nothing injected: {counts}")


def main(port, out, mode=None):
    os.environ.setdefault("TZ", "UTC")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,1400", f"--user-data-dir={out}/chromium-profile",
              "--no-first-run", "--disable-extensions"):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        d.set_page_load_timeout(15)
        d.get(f"http://127.0.0.1:{port}/")
        wait(lambda: "live" in d.find_element(By.ID, "live-state").get_attribute("class"),
             10, "the live stream")
        if mode == "hostile":
            check_hostile(d, port, out)
            return 0
        check_live(d, port)
        check_components(d, port)
        d.save_screenshot(os.path.join(out, "dashboard.png"))
        print(f"screenshot: {out}/dashboard.png ({os.path.getsize(out + '/dashboard.png')} bytes)")
        errors = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"
                  and "/ems-rs/" not in e.get("message", "")]
        assert not errors, f"browser errors: {errors}"
        frm = time.strftime("%Y-%m-%dT%H:00", time.gmtime(time.time() - 2 * 3600))
        check_peaks(d, port, frm)
        check_cdrs(d, port, frm, out)
        check_zone(d, port, "Asia/Kolkata")
    finally:
        d.quit()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(int(sys.argv[1]), sys.argv[2], *sys.argv[3:4]))
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
