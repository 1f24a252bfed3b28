#!/usr/bin/env python3
"""Time the content boards and the calendar for a seeded agency, for bench/content.sh.

Usage: content_timing.py --base http://127.0.0.1:PORT --email E --password P
                         --client cli_... --month 2026-12 --week 2026-W51
                         [--runs 30] [--expect-scheduled 400] [--cookie-out FILE]

Logs in through the web form (cookie + CSRF like a browser, as
bench/board_timing.py does), then fetches the client's board
`/clients/{id}/content`, the agency board `/content`, the calendar month
`/content/calendar?month=…` and week `/content/calendar?week=…` RUNS times
each after one warm-up, one request at a time, and prints a Markdown table
with the median, 95th-percentile and fastest server round trip in
milliseconds and the page size. With --cookie-out, writes the session cookie
(`name=value`) to that file for wrk. Only talks to a local server.
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
    p.add_argument("--client", required=True)
    p.add_argument("--month", required=True)
    p.add_argument("--week", required=True)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--expect-scheduled", type=int, help="the month page must count this many items")
    p.add_argument("--cookie-out", help="write the session cookie (name=value) here")
    a = p.parse_args()
    if not a.base.startswith(("http://127.0.0.1:", "http://localhost:")):
        sys.exit("content_timing.py: only a local server")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{a.base}/login").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    if not csrf:
        sys.exit("content_timing.py: no CSRF field on /login")
    form = urllib.parse.urlencode({"email": a.email, "password": a.password, "csrf": csrf.group(1)}).encode()
    opener.open(urllib.request.Request(f"{a.base}/login", data=form, headers={"Origin": a.base}))
    session = [c for c in jar if c.name.endswith("baton_session")]
    if not session:
        sys.exit("content_timing.py: login did not set a session cookie")
    if a.cookie_out:
        with open(a.cookie_out, "w") as f:
            f.write(f"{session[0].name}={session[0].value}\n")

    pages = [
        (f"/clients/{a.client}/content", "client board"),
        ("/content", "agency board"),
        (f"/content/calendar?month={a.month}", "calendar month"),
        (f"/content/calendar?week={a.week}", "calendar week"),
    ]
    rows = []
    for path, name in pages:
        url = f"{a.base}{path}"
        with opener.open(url) as r:
            # A lost session would answer with the login page after a redirect.
            if r.geturl() != url:
                sys.exit(f"content_timing.py: {path} redirected to {r.geturl()}")
            warm = r.read().decode()
        if name == "calendar month" and a.expect_scheduled is not None:
            want = f"{a.expect_scheduled} items scheduled or published"
            if want not in warm:
                sys.exit(f"content_timing.py: {path} does not say {want!r}")
        times = []
        size = 0
        for _ in range(a.runs):
            t0 = time.perf_counter()
            with opener.open(url) as r:
                body = r.read()
                status = r.status
            times.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                sys.exit(f"content_timing.py: {path}: HTTP {status}")
            size = len(body)
        times.sort()
        p95 = times[max(0, -(-len(times) * 95 // 100) - 1)]
        rows.append(
            f"| GET {path} ({name}) | {statistics.median(times):.1f} ms | {p95:.1f} ms "
            f"| {times[0]:.1f} ms | {size / 1024:.0f} KB |"
        )
    print(f"| page (web, logged in, {a.runs} sequential requests) | median | p95 | fastest | size |")
    print("|---|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
