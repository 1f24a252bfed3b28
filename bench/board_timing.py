#!/usr/bin/env python3
"""Time the team's access board for a seeded agency, for bench/load.sh.

Usage: board_timing.py --base http://127.0.0.1:PORT --email E --password P [--runs 30]

Logs in through the web form (cookie + CSRF like a browser), fetches
`/access` (every open request across the agency's clients) and `/access/held`
RUNS times each after one warm-up, and prints the median and 95th-percentile
server round trip in milliseconds. Only talks to a local server.
"""

import argparse
import http.cookiejar
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--runs", type=int, default=30)
    a = p.parse_args()
    if not a.base.startswith(("http://127.0.0.1:", "http://localhost:")):
        sys.exit("board_timing.py: only a local server")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{a.base}/login").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    if not csrf:
        sys.exit("board_timing.py: no CSRF field on /login")
    form = urllib.parse.urlencode({"email": a.email, "password": a.password, "csrf": csrf.group(1)}).encode()
    opener.open(urllib.request.Request(f"{a.base}/login", data=form, headers={"Origin": a.base}))
    for path in ["/access", "/access/held"]:
        opener.open(f"{a.base}{path}").read()
        times = []
        size = 0
        for _ in range(a.runs):
            t0 = time.perf_counter()
            body = opener.open(f"{a.base}{path}").read()
            times.append((time.perf_counter() - t0) * 1000)
            size = len(body)
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"| GET {path} (web, logged in) | median {statistics.median(times):.1f} ms | p95 {p95:.1f} ms | {size // 1024} KB |")


if __name__ == "__main__":
    main()
