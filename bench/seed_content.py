#!/usr/bin/env python3
"""Seed a running Baton with one client's busy content board, for bench/content.sh.

Usage: seed_content.py --base http://127.0.0.1:PORT --token bt_... --out seeded.json
                       [--items 5000] [--scheduled 400] [--in-review 600]
                       [--in-production 1000] [--month 2026-12] [--workers 8]

Waits for /healthz, creates one client and ITEMS content items on it through
the public API, with a complete brief, then moves some of them along the
workflow like a team would:

- in production: a version (`POST /api/v1/content/{id}/versions`);
- in review: the token's member as approver, a version, submitted;
- scheduled: the same, approved by that member, every QA item ticked, then
  scheduled across MONTH (default: the next calendar month, UTC), spread over
  its days and office hours;

the rest stay in brief. Writes the client id, the month and an ISO week of
that month (`{"client_id", "month", "week", ...}`) to --out as JSON. Only talks
to the given base URL.
"""

import argparse
import calendar
import concurrent.futures
import datetime as dt
import json
import sys
import threading
import time
import urllib.error
import urllib.request

CHANNELS = ["instagram", "tiktok", "linkedin", "facebook", "x", "youtube"]
FORMATS = ["Reel", "Carousel", "Post", "Story", "Short"]
CAMPAIGNS = ["Always on", "Spring Launch", "Black Friday", "New Year"]


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
            sys.exit(f"seed_content.py: {base}/healthz did not answer within {timeout:.0f} s")
        time.sleep(0.1)


class Api:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token

    def call(self, method: str, path: str, body=None, want: int = 200) -> dict:
        req = urllib.request.Request(
            f"{self.base}{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                if r.status != want:
                    raise RuntimeError(f"{method} {path}: HTTP {r.status}, wanted {want}")
                return json.load(r)
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")[:500]
            raise RuntimeError(f"{method} {path}: HTTP {e.code}: {detail}") from None


class Progress:
    """Prints `label: n/total` every `every` items, from any thread."""

    def __init__(self, label: str, total: int, every: int = 500) -> None:
        self.label, self.total, self.every = label, total, every
        self.n = 0
        self.lock = threading.Lock()
        self.started = time.monotonic()

    def tick(self) -> None:
        with self.lock:
            self.n += 1
            if self.n % self.every == 0 or self.n == self.total:
                took = time.monotonic() - self.started
                print(f"  {self.label}: {self.n}/{self.total} ({self.n / took:.0f}/s)", flush=True)


def next_month(today: dt.date) -> str:
    y, m = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return f"{y:04d}-{m:02d}"


def publish_times(month: str, n: int) -> list:
    """`n` RFC 3339 instants over the month's days, 08:00–19:45 UTC."""
    y, m = (int(p) for p in month.split("-"))
    days = calendar.monthrange(y, m)[1]
    out = []
    for k in range(n):
        day = 1 + k % days
        slot = k // days
        hour, minute = 8 + slot % 12, (slot * 15 + k * 7) % 60
        out.append(f"{y:04d}-{m:02d}-{day:02d}T{hour:02d}:{minute:02d}:00Z")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--items", type=int, default=5000)
    p.add_argument("--scheduled", type=int, default=400)
    p.add_argument("--in-review", type=int, default=600)
    p.add_argument("--in-production", type=int, default=1000)
    p.add_argument("--month", help="YYYY-MM to schedule in (default: next month, UTC)")
    p.add_argument("--workers", type=int, default=8)
    a = p.parse_args()
    if not a.base.startswith(("http://127.0.0.1:", "http://localhost:")):
        sys.exit("seed_content.py: only seeds a local server (http://127.0.0.1:PORT)")
    if a.scheduled + a.in_review + a.in_production > a.items:
        sys.exit("seed_content.py: more items to move than items")
    month = a.month or next_month(dt.datetime.now(dt.timezone.utc).date())
    y, m = (int(x) for x in month.split("-"))
    iso = dt.date(y, m, 15).isocalendar()
    week = f"{iso[0]:04d}-W{iso[1]:02d}"

    wait_healthy(a.base)
    api = Api(a.base, a.token)
    me = api.call("GET", "/api/v1/me")["id"]
    client = api.call(
        "POST",
        "/api/v1/clients",
        {"name": "Bench Content Client", "website": "https://content-client.example"},
        want=201,
    )["id"]

    def create(i: int) -> str:
        body = {
            "title": f"Post number {i:04d}",
            "channel": CHANNELS[i % len(CHANNELS)],
            "format": FORMATS[i % len(FORMATS)],
            "campaign": CAMPAIGNS[i % len(CAMPAIGNS)],
            "brief": {
                "audience": "Gym-goers 25–40 near the harbour",
                "angle": "Morning routines",
                "offer": "First month free",
                "constraints": "No before/after photos",
                "examples": "https://example.com/ref",
            },
        }
        item = api.call("POST", f"/api/v1/clients/{client}/content", body, want=201)["id"]
        created.tick()
        return item

    def produce(item: str) -> None:
        api.call("POST", f"/api/v1/content/{item}/versions", {"url": f"https://drive.example.com/{item}-v1.mp4"}, want=201)

    def review(item: str) -> None:
        api.call("PUT", f"/api/v1/content/{item}/participants", {"reviewers": [], "approvers": [me]})
        produce(item)
        api.call("POST", f"/api/v1/content/{item}/submit", {})

    def schedule(item: str, at: str) -> None:
        review(item)
        api.call("POST", f"/api/v1/content/{item}/decisions", {"decision": "approve"})
        keys = [q["key"] for q in api.call("GET", f"/api/v1/content/{item}/qa")["items"]]
        api.call("PUT", f"/api/v1/content/{item}/qa", {"items": {k: True for k in keys}})
        out = api.call("POST", f"/api/v1/content/{item}/schedule", {"publish_at": at})
        if out["status"] != "scheduled":
            raise RuntimeError(f"{item}: {out['status']} after scheduling")

    started = time.monotonic()
    print(f"seeding client {client}: {a.items} items", flush=True)
    created = Progress("created", a.items)
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.workers) as pool:
        ids = list(pool.map(create, range(a.items)))
    # Interleaved, so every status holds old and new items.
    step = a.items // max(1, a.scheduled + a.in_review + a.in_production) or 1
    movable = ids[::step][: a.scheduled + a.in_review + a.in_production]
    sched, rest = movable[: a.scheduled], movable[a.scheduled :]
    rev, prod = rest[: a.in_review], rest[a.in_review :]
    moved = Progress("moved", len(movable), every=250)

    def move(job) -> None:
        kind, item, at = job
        {"scheduled": lambda: schedule(item, at), "in_review": lambda: review(item), "in_production": lambda: produce(item)}[kind]()
        moved.tick()

    jobs = [("scheduled", i, at) for i, at in zip(sched, publish_times(month, len(sched)))]
    jobs += [("in_review", i, None) for i in rev] + [("in_production", i, None) for i in prod]
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.workers) as pool:
        list(pool.map(move, jobs))
    took = time.monotonic() - started
    counts = {
        "brief": a.items - len(movable),
        "in_production": len(prod),
        "in_review": len(rev),
        "scheduled": len(sched),
    }
    with open(a.out, "w") as f:
        json.dump({"client_id": client, "month": month, "week": week, "member_id": me, "counts": counts}, f)
    print(
        f"seeded {a.items} items in {took:.1f} s: "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
        + f"; scheduled across {month} (week {week} for the week view) -> {a.out}",
        flush=True,
    )


if __name__ == "__main__":
    main()
