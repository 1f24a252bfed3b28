"""schemathesis hooks of .ci/openapi-conformance.sh.

An Idempotency-Key is single-use by definition: the same key with another
request is refused (422, as the IETF Idempotency-Key draft says). Generated
keys repeat ("0", "a", ...), so a valid generated key gets a unique suffix
before it is sent; an invalid one (negative tests) is sent as generated.

Some rules of the server cannot be stated in a JSON schema: that an id
names something that exists in this agency (a member, a client, an SOP, a
platform, a checklist item), that a time zone name is in the time zone
database, that a period's `from` is before its `to`, that a time is in the
past (or the future), that a window ends after it starts, cross-field rules
("a note event needs a note"), and uniqueness among siblings (a role listed
twice, an email already taken). The server answers those with a 404, 409 or
422, which each operation documents. So that schema-valid requests
(positive cases) also reach the server's core instead of stopping at those
answers, `before_call` below turns the generated values of a positive case
into ones that satisfy them: real ids read from the demo agency through the
API, real time zones, an ordered period, and so on. Each fix names the
server rule it serves. Negative cases are sent as generated. schemathesis
re-validates a case after `before_call` changed it, so a fix can never make
a case pass for schema-valid when it is not.

The fuzzer acts as the demo admin. It must not lock itself out: a PATCH of
its own member that would deactivate it or take its admin away is sent to
another member instead (the server itself refuses to leave the agency
without an active admin: 409).
"""

import datetime as dt
import itertools
import json
import os
import re
import urllib.request

import schemathesis

_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_SERIAL = itertools.count()

_BASE = os.environ.get("BATON_CONFORMANCE_BASE", "http://127.0.0.1:18491")
_TOKEN = os.environ.get("BATON_CONFORMANCE_TOKEN", "")

# Names the bundled time zone database certainly has.
_TIMEZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
_TIMEZONE_SET = set(_TIMEZONES)
_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def _get(path):
    """GET an API path as the fuzzer; None when it fails."""
    request = urllib.request.Request(
        _BASE + path, headers={"Authorization": f"Bearer {_TOKEN}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except Exception:  # noqa: BLE001 - a fix is best effort; the case is sent anyway
        return None


def _items(path):
    page = _get(path)
    return page.get("items", []) if isinstance(page, dict) else []


def _me():
    me = _get("/api/v1/me")
    return me.get("id") if isinstance(me, dict) else None


def _members(active=True):
    return [m["id"] for m in _items("/api/v1/members?limit=200") if m.get("active") or not active]


def _clients():
    return [c["id"] for c in _items("/api/v1/clients?limit=200") if c.get("lifecycle") != "archived"]


def _platforms():
    return {p["key"]: [x["key"] for x in p.get("permissions", [])] for p in _items("/api/v1/platforms")}


def _pick(values, seed):
    return values[hash(str(seed)) % len(values)] if values else None


def _blank(value):
    return not isinstance(value, str) or not value.strip()


def _parse_time(value):
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return dt.datetime.fromisoformat(value.strip().upper().replace(" ", "T"))
    except ValueError:
        return None


def _iso(t):
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now():
    return dt.datetime.now(dt.timezone.utc)


@schemathesis.hook
def filter_case(context, case):
    """multipart/form-data has no types: every part but a file is text, so a
    negative case that puts an object, array, number or boolean into a text
    field of a draft upload (`note`, `caption`) goes out as that value's JSON
    text, which is a valid note. Such a case says nothing about the server
    and is dropped; every other negative case of the upload (no file, an
    unknown field, text too long) is still sent."""
    meta = case.meta
    if (
        meta is not None
        and not meta.generation.mode.is_positive
        and case.media_type
        and case.media_type.startswith("multipart/")
        and isinstance(case.body, dict)
    ):
        for field in ("note", "caption"):
            value = case.body.get(field)
            if value is not None and not isinstance(value, str):
                return False
    return True


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and _VALID_KEY.fullmatch(value):
            suffix = f"-{next(_SERIAL)}"
            headers[name] = value[: 255 - len(suffix)] + suffix
    _keep_admin(case)
    _spare_token(case)
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    fix = _FIXES.get((case.method.upper(), case.path))
    if fix is not None:
        fix(case)


def _spare_token(case):
    """Revoking a token is fuzzed like any operation, but never the token the
    fuzzer runs with (its id is in GET /api/v1/tokens, which the fuzzer reads
    and reuses): the id is always a spare token's (any mode)."""
    if case.method.upper() == "DELETE" and case.path == "/api/v1/tokens/{id}":
        case.path_parameters["id"] = os.environ.get("BATON_CONFORMANCE_SPARE_TOKEN_ID", "")


def _keep_admin(case):
    """The fuzzer's own member is never deactivated or demoted (any mode)."""
    if case.method.upper() != "PATCH" or case.path != "/api/v1/members/{id}":
        return
    body = case.body if isinstance(case.body, dict) else {}
    if body.get("active") is False or body.get("is_admin") is False:
        me = _me()
        if case.path_parameters.get("id") == me:
            others = [m for m in _members(active=False) if m != me]
            if others:
                case.path_parameters["id"] = _pick(others, body)


# --- fixes of positive cases, by operation --------------------------------


def _period(case):
    """`extract::period`: `from` must be before `to` (or before now)."""
    query = case.query
    if not isinstance(query, dict):
        return
    start, end = _parse_time(query.get("from")), _parse_time(query.get("to"))
    if start is not None and end is not None and start.tzinfo and end.tzinfo and start >= end:
        query["from"], query["to"] = _iso(end - dt.timedelta(days=1)), _iso(end)
    elif start is not None and end is None and start.tzinfo and start >= _now():
        query["from"] = ""
    if query.get("from") and start is None or query.get("to") and end is None:
        # A time Python cannot read (a leap second): use the defaults.
        query["from"] = query["to"] = ""


def _content_kpis(case):
    """The `client` and `creative` filters must name this agency's own."""
    _period(case)
    query = case.query
    if not isinstance(query, dict):
        return
    if query.get("client"):
        query["client"] = _pick(_clients(), query["client"]) or ""
    if query.get("creative"):
        query["creative"] = _pick(_members(active=False), query["creative"]) or ""


def _timezone(body, key="timezone"):
    """`validate::timezone`: a name the time zone database knows."""
    if isinstance(body.get(key), str) and body[key].strip() not in _TIMEZONE_SET:
        body[key] = _pick(_TIMEZONES, body[key])


def _agency(case):
    if isinstance(case.body, dict):
        _timezone(case.body)


def _minutes(text):
    h, m = text.strip().split(":")
    return int(h) * 60 + int(m)


def _calendar(case):
    """`Calendar::from_parts`: windows end after they start, do not overlap,
    and some day has one."""
    body = case.body
    if not isinstance(body, dict):
        return
    _timezone(body)
    hours = body.get("hours")
    if not isinstance(hours, dict):
        return
    any_window = False
    for day, pairs in hours.items():
        if not isinstance(pairs, list):
            continue
        kept, last_end = [], -1
        for pair in sorted(pairs, key=lambda p: _minutes(p[0])):
            start, end = _minutes(pair[0]), _minutes(pair[1])
            if start < 1440 and start < end and start >= last_end:
                kept.append(pair)
                last_end = end
        hours[day] = kept
        any_window = any_window or bool(kept)
    if not any_window:
        hours[next(iter(hours), "mon")] = [["09:00", "17:00"]]


def _holidays(case):
    """`Calendar::holidays_from_ics`: an iCalendar file with all-day events."""
    day = dt.date(2030, 1, 1) + dt.timedelta(days=hash(str(case.body)) % 365)
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Baton conformance//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{next(_SERIAL)}@conformance\r\nSUMMARY:Day off\r\n"
        f"DTSTART;VALUE=DATE:{day.strftime('%Y%m%d')}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    object.__setattr__(case, "body", ics)


def _member_or_none(body, key, seed=None):
    """An id that must be a member of this agency (`ensure_member`)."""
    members = _members()
    if key in body and body[key] is not None and body[key] not in members:
        body[key] = _pick(members, seed if seed is not None else body[key])


def _create_client(case):
    if isinstance(case.body, dict):
        _member_or_none(case.body, "traffic_control")


def _team(case):
    """`clients::set_team`: one member per role, real members."""
    body = case.body
    if not isinstance(body, dict):
        return
    seen, seats = set(), []
    for seat in body.get("members") or []:
        if isinstance(seat, dict) and seat.get("role", "").strip() not in seen:
            seen.add(seat.get("role", "").strip())
            _member_or_none(seat, "member_id")
            seats.append(seat)
    body["members"] = seats
    _member_or_none(body, "traffic_control")


def _event(case):
    """`client_moves::record_event` and `reopen`: a note for `note` and
    `reopened`, no `occurred_at` on a correction, a time after 2000 and not
    in the future."""
    body = case.body
    if not isinstance(body, dict):
        return
    kind = str(body.get("type", "")).strip()
    if kind in ("note", "reopened") and _blank(body.get("note")):
        body["note"] = "Recorded by the conformance run"
    if kind == "reopened":
        body.pop("occurred_at", None)
    at = _parse_time(body.get("occurred_at"))
    if body.get("occurred_at") is not None and (
        at is None or at.tzinfo is None or not (dt.datetime(2000, 1, 2, tzinfo=dt.timezone.utc) < at < _now())
    ):
        body["occurred_at"] = _iso(_now() - dt.timedelta(days=1))


def _member(case):
    """`members::create`: an email is taken once per agency."""
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("email"), str) and "@" in body["email"]:
        local, domain = body["email"].strip().rsplit("@", 1)
        body["email"] = f"c{next(_SERIAL)}.{local}"[: 250 - len(domain)] + "@" + domain


def _requests(requests):
    """`access_requests::validate_new`: known platforms, their permission
    levels, no platform and asset twice."""
    catalog = _platforms()
    keys = sorted(catalog)
    seen = set()
    out = []
    for r in requests:
        if not isinstance(r, dict):
            continue
        if str(r.get("platform", "")).strip() not in catalog:
            r["platform"] = _pick(keys, r.get("platform"))
        platform = str(r["platform"]).strip()
        permissions = catalog.get(platform, [])
        if r.get("permission") is not None and str(r["permission"]).strip() not in permissions:
            r["permission"] = _pick(permissions, r["permission"])
        asset = r.get("asset").strip() if isinstance(r.get("asset"), str) else ""
        if (platform, asset) in seen:
            continue
        seen.add((platform, asset))
        out.append(r)
    return out


def _template(case):
    """`access_templates::save`: a template name is taken once per agency."""
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("requests"), list):
        body["requests"] = _requests(body["requests"])
    if isinstance(body, dict) and isinstance(body.get("name"), str):
        body["name"] = f"{body['name'].strip()[:180]} {next(_SERIAL)}"


def _link(case):
    """`create_link`: requests or a template (one of them), an existing one."""
    body = case.body
    if not isinstance(body, dict):
        return
    if body.get("template") is not None:
        templates = [t["id"] for t in _items("/api/v1/access-templates")]
        if body.get("requests") is None and templates:
            body["template"] = _pick(templates, body["template"])
        else:
            body.pop("template")
    if body.get("requests") is None and body.get("template") is None:
        body["requests"] = [{"platform": "meta_page"}]
    if isinstance(body.get("requests"), list):
        body["requests"] = _requests(body["requests"]) or [{"platform": "meta_page"}]


# A tiny PDF: a draft type whose first bytes are ASCII, so it can be sent as
# a string (schemathesis counts a case holding `bytes` as schema-violating
# when it re-validates a changed case).
_PDF = "%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def _upload(case):
    """A file upload is never replayed, so `Idempotency-Key` with a
    multipart body is refused (422); the key is for JSON bodies. And
    `content_files::check`: a draft's first bytes must be one of the draft
    types (PNG, JPEG, ..., PDF), which a schema cannot say of bytes; an
    empty file is no draft."""
    if not (case.media_type and case.media_type.startswith("multipart/")):
        return
    for name in list(case.headers or {}):
        if name.lower() == "idempotency-key":
            del case.headers[name]
    if isinstance(case.body, dict) and "file" in case.body:
        case.body["file"] = _PDF


def _platform(case):
    """`platforms::validate_custom`: not the key of a shipped platform."""
    if case.path_parameters.get("key") in _builtin_platforms():
        case.path_parameters["key"] = "custom_" + case.path_parameters["key"][:30]


_BUILTIN = []


def _builtin_platforms():
    if not _BUILTIN:
        _BUILTIN.extend(p["key"] for p in _items("/api/v1/platforms") if not p.get("custom"))
    return _BUILTIN


def _decision(case):
    """`content::decide`: changes are requested with a comment."""
    body = case.body
    if isinstance(body, dict) and body.get("decision") == "request_changes" and _blank(body.get("comment")):
        body["comment"] = "Please tighten the copy"


def _keys_of(items, generated):
    """Generated `{key: bool}` toggles mapped onto real keys."""
    if not items or not isinstance(generated, dict):
        return generated
    return {_pick(items, k): v for k, v in generated.items()}


def _qa(case):
    """`content::set_qa`: keys of the item's own QA checklist."""
    qa = _get(f"/api/v1/content/{case.path_parameters.get('id')}/qa")
    if isinstance(qa, dict) and isinstance(case.body, dict):
        keys = [i["key"] for i in qa.get("items", [])]
        case.body["items"] = _keys_of(keys, case.body.get("items"))


def _manual_keys(run):
    return [i["key"] for i in run.get("checklist", []) if not i.get("auto")]


def _checklist(case):
    """`sop_runs::set_checklist`: keys of the run's checklist that no fact
    ticks. A run whose every item a fact ticks takes no change at all, so
    the case goes to an open run that has items to tick by hand."""
    run = _get(f"/api/v1/sop-runs/{case.path_parameters.get('id')}")
    if not isinstance(run, dict) or not isinstance(case.body, dict):
        return
    if not _manual_keys(run) or run.get("status") in ("done", "cancelled"):
        runs = [r for r in _items("/api/v1/sop-runs?open=true&limit=200") if _manual_keys(r)]
        if not runs:
            return
        run = _pick(runs, case.body)
        case.path_parameters["id"] = run["id"]
    case.body["items"] = _keys_of(_manual_keys(run), case.body.get("items"))


def _schedule(case):
    """`schedule`: not in the past, within five years."""
    body = case.body
    if not isinstance(body, dict):
        return
    at = _parse_time(body.get("publish_at"))
    now = _now()
    if at is None or at.tzinfo is None or not (now < at < now + dt.timedelta(days=5 * 365)):
        body["publish_at"] = _iso(now + dt.timedelta(days=1))


def _participants(case):
    """`content::set_participants` and client defaults: reviewers and
    approvers are active members of this agency, nobody is both."""
    body = case.body
    if not isinstance(body, dict):
        return
    members = _members()
    taken = set()
    for key in ("approvers", "reviewers"):
        if isinstance(body.get(key), list):
            chosen = dict.fromkeys(m if m in members else _pick(members, m) for m in body[key])
            body[key] = [m for m in chosen if m not in taken]
            taken.update(body[key])


def _start_run(case):
    """`sop_runs::start`: an SOP of the library, a client of the agency."""
    body = case.body
    if not isinstance(body, dict):
        return
    sops = [s["key"] for s in _items("/api/v1/sops")]
    if body.get("sop") not in sops:
        body["sop"] = _pick(sops, body.get("sop"))
    clients = _clients()
    if body.get("client") not in clients:
        body["client"] = _pick(clients, body.get("client"))
    # `sop_runs::start`: after 2000-01-01 (as an event's time) and not in
    # the future.
    at = _parse_time(body.get("started_at"))
    if at is not None and (
        at.tzinfo is None or not (dt.datetime(2000, 1, 2, tzinfo=dt.timezone.utc) < at < _now())
    ):
        body["started_at"] = _iso(_now() - dt.timedelta(hours=1))


def _assign(case):
    """`sop_runs::assign`: an active member."""
    if isinstance(case.body, dict):
        members = _members()
        if case.body.get("member") not in members:
            case.body["member"] = _pick(members, case.body.get("member"))


def _sop(case):
    """`sop::validate`: checklist keys unique, the SLA's target not above its limit."""
    body = case.body
    if not isinstance(body, dict):
        return
    if isinstance(body.get("checklist"), list):
        seen, items = set(), []
        for item in body["checklist"]:
            if isinstance(item, dict) and item.get("key") not in seen:
                seen.add(item.get("key"))
                items.append(item)
        body["checklist"] = items
    sla = body.get("sla")
    if isinstance(sla, dict) and isinstance(sla.get("target"), (int, float)) and isinstance(sla.get("limit"), (int, float)):
        if sla["target"] > sla["limit"]:
            sla["target"], sla["limit"] = sla["limit"], sla["target"]


def _content_settings(case):
    """`checked_qa`: a channel once (ignoring case), item keys unique."""
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("qa"), dict):
        return
    qa, seen = {}, set()
    for channel, items in body["qa"].items():
        key = channel.strip().lower()
        if key in seen or not isinstance(items, list):
            continue
        seen.add(key)
        keys, kept = set(), []
        for item in items:
            if isinstance(item, dict) and item.get("key") not in keys:
                keys.add(item.get("key"))
                kept.append(item)
        qa[channel] = kept
    body["qa"] = qa


def _handoff(case):
    """`HandoffBrief::validated`: an empty deliverable has no count, a
    stakeholder with a role or email has a name, promises and "no promises"
    exclude each other."""
    body = case.body
    if not isinstance(body, dict):
        return
    scope = body.get("scope")
    if isinstance(scope, dict):
        for d in scope.get("deliverables") or []:
            if isinstance(d, dict):
                if _blank(d.get("item")):
                    d["per_month"] = 0
                elif not isinstance(d.get("per_month"), int) or d["per_month"] < 1:
                    d["per_month"] = 1
    for s in body.get("stakeholders") or []:
        if isinstance(s, dict) and _blank(s.get("name")) and not (_blank(s.get("role")) and _blank(s.get("email"))):
            s["name"] = "Alex Client"
    if body.get("no_promises") is True and any(not _blank(p) for p in body.get("promises") or []):
        body["no_promises"] = False


def _onboarding_settings(case):
    """`OnboardingSettings::validated`: question keys unique (a key left
    empty is derived from the label)."""
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("questions"), list):
        return
    for i, q in enumerate(body["questions"]):
        if isinstance(q, dict):
            q["key"] = f"q{i}_" + re.sub(r"[^a-z0-9_]", "", str(q.get("key") or "").lower())[:30]


def _past_times(body, keys):
    """A time that must not be in the future (and after 2000-01-01): an hour
    ago when generated otherwise; keeps empty and null ("now")."""
    for key in keys:
        at = _parse_time(body.get(key))
        if body.get(key) and (
            at is None
            or at.tzinfo is None
            or not (dt.datetime(2000, 1, 2, tzinfo=dt.timezone.utc) < at < _now())
        ):
            body[key] = _iso(_now() - dt.timedelta(hours=1))


def _report_incident(case):
    """`incidents::report`: the client is this agency's; a content item
    must be one of that client's (left out here); `reported_at` not in the
    future and `occurred_at` not after it."""
    body = case.body
    if not isinstance(body, dict):
        return
    if body.get("client") is not None:
        clients = _clients()
        if body["client"] not in clients:
            body["client"] = _pick(clients, body["client"])
    body["content"] = None
    _past_times(body, ("reported_at", "occurred_at"))
    reported = _parse_time(body.get("reported_at"))
    occurred = _parse_time(body.get("occurred_at"))
    if occurred is not None and (reported is None or occurred > reported):
        body["occurred_at"] = _iso((reported or _now()) - dt.timedelta(hours=2))


def _incident_note(case):
    """`incidents::add_note`: the note's time is not in the future."""
    if isinstance(case.body, dict):
        _past_times(case.body, ("at",))


def _triage_incident(case):
    """`incidents::triage`: the lead is an active member."""
    if isinstance(case.body, dict):
        members = _members()
        if case.body.get("lead") not in members:
            case.body["lead"] = _pick(members, case.body.get("lead"))



def _iso_week(day):
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def _valid_week(value, seed):
    """An ISO week that exists and has started (`IsoWeek::parse`, not a
    future week): the generated one when it is, else one of the last ten."""
    try:
        year, week = str(value).split("-W")
        start = dt.date.fromisocalendar(int(year), int(week), 1)
        if start <= _now().date():
            return value
    except (ValueError, TypeError):
        pass
    return _iso_week(_now().date() - dt.timedelta(weeks=hash(str(seed)) % 10))


def _valid_day(value):
    """`planned_day`: a real calendar day."""
    try:
        dt.date.fromisoformat(str(value))
        return value
    except ValueError:
        return (_now().date() + dt.timedelta(days=7)).isoformat()


def _planned(case):
    if isinstance(case.body, dict) and case.body.get("planned_on") is not None:
        case.body["planned_on"] = _valid_day(case.body["planned_on"])


def _goal(body):
    """`Goal::new`: a range has two numbers, low first; the others one."""
    goal, high = body.get("goal"), body.get("goal_max")
    numbers = goal if isinstance(goal, list) else [goal]
    numbers = [n for n in numbers if isinstance(n, (int, float))] or [0]
    if body.get("comparator") == "range":
        low = min(numbers + ([high] if isinstance(high, (int, float)) else []))
        top = max(numbers + ([high] if isinstance(high, (int, float)) else []))
        body["goal"], body["goal_max"] = [low, top], None
    elif "comparator" in body:
        body["goal"], body["goal_max"] = numbers[0], None


def _new_measurable(case):
    """`create_measurable`: a real owner, a coherent goal, a KPI's own unit
    (left out) or a manual one's."""
    body = case.body
    if not isinstance(body, dict):
        return
    _member_or_none(body, "owner")
    _goal(body)
    if body.get("source") != "manual":
        body["unit"] = None
    elif not body.get("unit"):
        body["unit"] = "posts"


def _edit_measurable(case):
    """`update_measurable`: a real owner; goal and comparator together; the
    unit stays (a KPI's is its own)."""
    body = case.body
    if not isinstance(body, dict):
        return
    _member_or_none(body, "owner")
    body["unit"] = None
    if body.get("comparator") is None or body.get("goal") is None:
        body["comparator"] = body["goal"] = body["goal_max"] = None
    else:
        _goal(body)


def _measurable_value(case):
    if isinstance(case.body, dict):
        case.body["week"] = _valid_week(case.body.get("week"), case.body)


def _scorecard_view(case):
    query = case.query
    if isinstance(query, dict) and query.get("week"):
        query["week"] = _valid_week(query["week"], query)


def _ship(case):
    """`scorecards::ship`: a week that started, real owners, a due day not
    before the week (the counts are the schema's)."""
    body = case.body
    if not isinstance(body, dict):
        return
    body["week"] = _valid_week(body.get("week"), body)
    if body.get("client") is not None and body["client"] not in _clients():
        body["client"] = _pick(_clients(), body["client"])
    due = (_now().date() + dt.timedelta(days=14)).isoformat()
    for action in body.get("actions") or []:
        if isinstance(action, dict):
            _member_or_none(action, "owner")
            action["due"] = due


def _day_range(case):
    """`api::cadences::day`: real days; a range `from` ≤ `to` of at most a
    year (`occurrences::check_range`), the missing end near the given one."""
    query = case.query
    if not isinstance(query, dict):
        return
    days = {}
    for key in ("from", "to"):
        try:
            days[key] = dt.date.fromisoformat(str(query.get(key) or ""))
        except ValueError:
            query[key] = ""
    start, end = days.get("from"), days.get("to")
    today = _now().date()
    if start is None and end is None:
        return
    try:
        if start is None:
            start = min(end, today - dt.timedelta(days=7))
        if end is None:
            end = start + dt.timedelta(days=27)
        if start > end:
            start, end = end, start
        if (end - start).days >= 366:
            end = start + dt.timedelta(days=30)
    except OverflowError:
        start, end = today, today + dt.timedelta(days=27)
    query["from"], query["to"] = start.isoformat(), end.isoformat()


_SCHEDULES = [
    "FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0",
    "FREQ=MONTHLY;BYDAY=1TH;BYHOUR=15",
    "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=2TU",
    "freq=weekly;interval=2;byday=we,fr",
    "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=16",
]


def _cadence(case):
    """`CadenceDefinition::validate`: a schedule that parses, the memo only
    per client (and per-client cadences only with it), client stakeholders
    only at a per-client meeting."""
    body = case.body
    if not isinstance(body, dict):
        return
    body["schedule"] = _pick(_SCHEDULES, body.get("schedule"))
    body["scope"] = "client" if body.get("artifact") == "account_memo" else "agency"
    roles = body.get("attendee_roles")
    if body["scope"] == "agency" and isinstance(roles, list):
        body["attendee_roles"] = [r for r in roles if r != "client_stakeholders"] or ["ops"]


def _artifact(case):
    """`artifacts::attach` on a real meeting (the fuzzer reuses ids the list
    returned): only a monthly memo is shared, and a memo needs its text;
    decisions have real owners and due days that exist."""
    body = case.body
    if not isinstance(body, dict):
        return
    if "share" in body:
        body["share"] = False
    if _blank(body.get("notes")):
        body["notes"] = "Held; the notes follow."
    for d in body.get("decisions") or []:
        if isinstance(d, dict):
            _member_or_none(d, "owner")
            if d.get("due"):
                d["due"] = _valid_day(d["due"])


def _endpoint(case):
    """`integrations::check_url`: a URL's host must resolve to a public
    address (names are looked up, and this machine resolves few), so the URL
    becomes a public address literal with the generated path; `client_id`
    names a real client (`check_client`)."""
    body = case.body
    if not isinstance(body, dict):
        return
    url = body.get("url")
    if isinstance(url, str):
        match = re.match(r"^https?://[A-Za-z0-9][A-Za-z0-9.-]*(?::[0-9]+)?(.*)$", url)
        tail = match.group(1) if match else ""
        body["url"] = "https://93.184.215.14" + tail
    if body.get("client_id") is not None and body["client_id"] not in _clients():
        body["client_id"] = _pick(_clients(), body["client_id"])


def _recover(case):
    """`api::integrations::recover`: `since` is not in the future."""
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("since"), str):
        since = _parse_time(body["since"])
        if since is None or since.tzinfo is None or since > _now():
            body["since"] = (_now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


_FIXES = {
    ("POST", "/api/v1/webhooks"): _endpoint,
    ("PATCH", "/api/v1/webhooks/{id}"): _endpoint,
    ("POST", "/api/v1/notification-channels"): _endpoint,
    ("PATCH", "/api/v1/notification-channels/{id}"): _endpoint,
    ("POST", "/api/v1/webhooks/{id}/recover"): _recover,
    ("POST", "/api/v1/notification-channels/{id}/recover"): _recover,
    ("GET", "/api/v1/cadence-occurrences"): _day_range,
    ("GET", "/api/v1/cadence-adherence"): _day_range,
    ("PUT", "/api/v1/cadences/{key}"): _cadence,
    ("POST", "/api/v1/cadence-occurrences/{id}/artifact"): _artifact,
    ("GET", "/api/v1/kpis/access"): _period,
    ("GET", "/api/v1/kpis/sops"): _period,
    ("GET", "/api/v1/kpis/incidents"): _period,
    ("GET", "/api/v1/kpis"): _period,
    ("GET", "/api/v1/kpis/members"): _period,
    ("GET", "/api/v1/scorecard"): _scorecard_view,
    ("POST", "/api/v1/measurables"): _new_measurable,
    ("PATCH", "/api/v1/measurables/{id}"): _edit_measurable,
    ("POST", "/api/v1/measurables/{id}/values"): _measurable_value,
    ("POST", "/api/v1/scorecards"): _ship,
    ("POST", "/api/v1/clients/{id}/content"): _planned,
    ("POST", "/api/v1/content/{id}/plan"): _planned,
    ("POST", "/api/v1/incidents"): _report_incident,
    ("POST", "/api/v1/incidents/{id}/notes"): _incident_note,
    ("POST", "/api/v1/incidents/{id}/triage"): _triage_incident,
    ("GET", "/api/v1/kpis/content"): _content_kpis,
    ("PATCH", "/api/v1/agency"): _agency,
    ("PUT", "/api/v1/agency/calendar"): _calendar,
    ("POST", "/api/v1/agency/calendar/holidays/import"): _holidays,
    ("PATCH", "/api/v1/agency/onboarding"): _onboarding_settings,
    ("POST", "/api/v1/clients"): _create_client,
    ("PUT", "/api/v1/clients/{id}/team"): _team,
    ("POST", "/api/v1/clients/{id}/events"): _event,
    ("POST", "/api/v1/members"): _member,
    ("POST", "/api/v1/access-templates"): _template,
    ("PUT", "/api/v1/access-templates/{id}"): _template,
    ("POST", "/api/v1/clients/{id}/onboarding-links"): _link,
    ("POST", "/api/v1/content/{id}/decisions"): _decision,
    ("POST", "/api/v1/content/{id}/versions"): _upload,
    ("PUT", "/api/v1/platforms/{key}"): _platform,
    ("PUT", "/api/v1/content/{id}/qa"): _qa,
    ("POST", "/api/v1/content/{id}/schedule"): _schedule,
    ("PUT", "/api/v1/content/{id}/participants"): _participants,
    ("PUT", "/api/v1/clients/{id}/content-settings"): _participants,
    ("POST", "/api/v1/sop-runs"): _start_run,
    ("PUT", "/api/v1/sop-runs/{id}/checklist"): _checklist,
    ("POST", "/api/v1/sop-runs/{id}/assign"): _assign,
    ("PUT", "/api/v1/sops/{key}"): _sop,
    ("PUT", "/api/v1/agency/content-settings"): _content_settings,
    ("PUT", "/api/v1/clients/{id}/handoff"): _handoff,
}
