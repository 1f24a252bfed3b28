#!/usr/bin/env python3
"""Seed a running Baton with clients through the API, for bench/load.sh.

Usage: seed.py --base http://127.0.0.1:PORT --token bt_... --clients 1000 --out ids.txt

Waits for /healthz, creates the clients with a few concurrent connections and
writes their ids, one per line, to --out. Only talks to the given base URL.
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--out", required=True)
    p.add_argument("--workers", type=int, default=8)
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


if __name__ == "__main__":
    main()
