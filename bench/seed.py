#!/usr/bin/env python3
"""Seed a running Baton with clients through the API, for bench/load.sh.

Usage: seed.py --base http://127.0.0.1:PORT --token bt_... --clients 1000 --out ids.txt
               [--links links.txt]

Waits for /healthz, creates the clients with a few concurrent connections and
writes their ids, one per line, to --out. With --links, every client also
gets a signed contract and an onboarding link with five access requests in
mixed states (verified, granted by the client, failed, requested), like an
agency mid-onboarding; the link URLs go to that file, one per line. Only
talks to the given base URL.
"""

import argparse
import concurrent.futures
import json
import sys
import time
import urllib.error
import urllib.request


def wait_healthy(base: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if time.monotonic() > deadline:
            sys.exit(f"seed.py: {base}/healthz did not answer within {timeout:.0f} s")
        time.sleep(0.1)


def create_client(base: str, token: str, i: int) -> str:
    body = json.dumps(
        {"name": f"Bench Client {i:04d}", "website": f"https://client{i:04d}.example"}
    ).encode()
    req = urllib.request.Request(
        f"{base}/api/v1/clients",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        if r.status != 201:
            raise RuntimeError(f"creating client {i}: HTTP {r.status}")
        return json.load(r)["id"]


def call(base: str, token: str, method: str, path: str, body=None) -> dict:
    req = urllib.request.Request(
        f"{base}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        if r.status >= 300:
            raise RuntimeError(f"{method} {path}: HTTP {r.status}")
        return json.load(r)


REQUESTS = [
    {"platform": "meta_page"},
    {"platform": "instagram"},
    {"platform": "meta_ad_account"},
    {"platform": "ga4", "permission": "analyst"},
    {"platform": "google_ads"},
]


def onboard(base: str, token: str, i: int, client_id: str) -> str:
    """Contract signed, a link with five requests, and a mix of states."""
    call(base, token, "POST", f"/api/v1/clients/{client_id}/events", {"type": "contract_signed"})
    link = call(base, token, "POST", f"/api/v1/clients/{client_id}/onboarding-links", {"requests": REQUESTS})
    ids = [r["id"] for r in link["requests"]]
    call(base, token, "POST", f"/api/v1/access-requests/{ids[0]}/grant")
    call(base, token, "POST", f"/api/v1/access-requests/{ids[0]}/verify", {"note": "partner listed"})
    call(base, token, "POST", f"/api/v1/access-requests/{ids[1]}/grant")
    if i % 3 == 0:
        call(base, token, "POST", f"/api/v1/access-requests/{ids[2]}/grant")
        call(base, token, "POST", f"/api/v1/access-requests/{ids[2]}/fail", {"reason": "added as a person"})
    return link["url"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--out", required=True)
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--links", help="also onboard every client; write link URLs here")
    a = p.parse_args()
    if not a.base.startswith(("http://127.0.0.1:", "http://localhost:")):
        sys.exit("seed.py: only seeds a local server (http://127.0.0.1:PORT)")

    wait_healthy(a.base)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.workers) as pool:
        ids = list(pool.map(lambda i: create_client(a.base, a.token, i), range(a.clients)))
    with open(a.out, "w") as f:
        f.write("\n".join(ids) + "\n")
    took = time.monotonic() - started
    print(f"seeded {len(ids)} clients in {took:.1f} s ({len(ids) / took:.0f}/s) -> {a.out}")
    if a.links:
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=a.workers) as pool:
            urls = list(pool.map(lambda p: onboard(a.base, a.token, p[0], p[1]), enumerate(ids)))
        with open(a.links, "w") as f:
            f.write("\n".join(urls) + "\n")
        took = time.monotonic() - started
        print(f"onboarded {len(urls)} clients (5 requests each) in {took:.1f} s -> {a.links}")


if __name__ == "__main__":
    main()
