//! Tests of the business calendar: business-time arithmetic, holidays,
//! working hours and their edge cases.

use super::*;

type Hours = BTreeMap<String, Vec<[String; 2]>>;

const M: i64 = MINUTE_MS;
const H: i64 = 60 * MINUTE_MS;

/// Local wall-clock text in `tz` → unix ms (compatible rule).
fn at(tz: &str, local: &str) -> i64 {
    let dt: DateTime = local.parse().expect("datetime");
    dt.to_zoned(TimeZone::get(tz).expect("tz"))
        .expect("zoned")
        .timestamp()
        .as_millisecond()
}

fn utc(text: &str) -> i64 {
    text.parse::<Timestamp>()
        .expect("timestamp")
        .as_millisecond()
}

fn hours(spec: &[(&str, &[(&str, &str)])]) -> Hours {
    spec.iter()
        .map(|(day, ws)| {
            (
                day.to_string(),
                ws.iter()
                    .map(|(a, b)| [a.to_string(), b.to_string()])
                    .collect(),
            )
        })
        .collect()
}

fn weekdays(ws: &[(&'static str, &'static str)]) -> Hours {
    let days: Vec<(&str, &[(&str, &str)])> = ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|d| (*d, ws))
        .collect();
    hours(&days)
}

fn cal(tz: &str, h: &Hours, holidays: &[&str]) -> Calendar {
    let hol: Vec<String> = holidays.iter().map(|s| s.to_string()).collect();
    Calendar::from_parts(tz, h, &hol).expect("valid calendar")
}

/// (calendar, start, amount, expected) — and business_between(start,
/// expected) must equal amount.
fn check_table(c: &Calendar, cases: &[(i64, i64, i64)]) {
    for (i, &(start, amount, want)) in cases.iter().enumerate() {
        let got = c.add_business(start, amount);
        assert_eq!(
            got,
            want,
            "case {i}: add({}, {amount}) = {} want {}",
            crate::clock::rfc3339(start),
            crate::clock::rfc3339(got),
            crate::clock::rfc3339(want)
        );
        assert_eq!(c.business_between(start, want), amount, "case {i}: between");
    }
}

#[test]
fn calendar_default_table() {
    let c = Calendar::default_utc();
    let day = c.business_days_ms(1.0);
    assert_eq!(day, 8 * H);
    let u = |s| at("UTC", s);
    check_table(
        &c,
        &[
            (u("2026-01-09T16:00"), day, u("2026-01-12T16:00")), // Fri → Mon
            (u("2026-01-12T08:00"), H, u("2026-01-12T10:00")),
            (u("2026-01-12T17:00"), M, u("2026-01-13T09:01")),
            (u("2026-01-10T12:00"), 30 * M, u("2026-01-12T09:30")), // Sat
            (u("2026-01-12T09:00"), day, u("2026-01-12T17:00")),    // lands on window end
            (u("2026-01-12T10:00"), 5 * day, u("2026-01-19T10:00")),
            (u("2026-01-12T10:00"), 15 * day, u("2026-02-02T10:00")), // week skips
            (u("2026-01-10T12:00"), 0, u("2026-01-10T12:00")),
        ],
    );
    assert!(c.is_working(u("2026-01-12T09:00")));
    assert!(!c.is_working(u("2026-01-12T17:00")));
    assert!(!c.is_working(u("2026-01-10T12:00")));
    assert_eq!(c.next_working(u("2026-01-10T12:00")), u("2026-01-12T09:00"));
    assert_eq!(
        c.business_between(u("2026-01-12T00:00"), u("2026-01-19T00:00")),
        40 * H
    );
    assert_eq!(
        c.business_between(u("2026-01-19T00:00"), u("2026-01-12T00:00")),
        0
    );
    assert_eq!(c.business_days_ms(0.5), 4 * H);
    assert_eq!(c.business_days_ms(f64::NAN), 0);
}

#[test]
fn calendar_lunch_break_and_holidays() {
    let lunch = cal(
        "UTC",
        &weekdays(&[("09:00", "12:00"), ("13:00", "17:00")]),
        &[],
    );
    let u = |s| at("UTC", s);
    check_table(
        &lunch,
        &[
            (u("2026-01-12T11:30"), H, u("2026-01-12T13:30")),
            (u("2026-01-12T12:30"), H, u("2026-01-12T14:00")),
            (u("2026-01-12T11:00"), H, u("2026-01-12T12:00")),
        ],
    );
    assert!(!lunch.is_working(u("2026-01-12T12:30")));
    let holiday = cal("UTC", &weekdays(&[("09:00", "17:00")]), &["2026-01-12"]);
    check_table(
        &holiday,
        &[
            (u("2026-01-09T16:00"), 8 * H, u("2026-01-13T16:00")),
            (u("2026-01-12T10:00"), H, u("2026-01-13T10:00")),
        ],
    );
    assert!(!holiday.is_working(u("2026-01-12T10:00")));
    assert_eq!(
        holiday.next_working(u("2026-01-12T10:00")),
        u("2026-01-13T09:00")
    );
}

#[test]
fn calendar_dst_berlin() {
    let tz = "Europe/Berlin";
    let b = |s| at(tz, s);
    let office = cal(tz, &weekdays(&[("09:00", "17:00")]), &[]);
    check_table(
        &office,
        &[
            // Spring forward weekend: Fri CET (+01) → Mon CEST (+02).
            (b("2026-03-27T16:00"), 8 * H, b("2026-03-30T16:00")),
            // Fall back weekend: Fri CEST → Mon CET.
            (b("2026-10-23T16:00"), 8 * H, b("2026-10-26T16:00")),
            (b("2026-03-23T09:00"), 10 * 8 * H, b("2026-04-03T17:00")),
        ],
    );
    assert_eq!(b("2026-03-30T16:00"), utc("2026-03-30T14:00Z"));
    assert_eq!(b("2026-03-27T16:00"), utc("2026-03-27T15:00Z"));

    // A Sunday 00:00–06:00 window spanning the change.
    let night = cal(tz, &hours(&[("sun", &[("00:00", "06:00")])]), &[]);
    // Spring: 00:00 CET = 23:00Z, 06:00 CEST = 04:00Z → 5 h.
    let (s, e) = (b("2026-03-29T00:00"), b("2026-03-29T06:00"));
    assert_eq!(e - s, 5 * H);
    assert_eq!(night.business_between(s - H, e + H), 5 * H);
    check_table(
        &night,
        &[
            (b("2026-03-28T12:00"), 5 * H, e),
            (b("2026-03-28T12:00"), 3 * H, utc("2026-03-29T02:00Z")), // 04:00 CEST
            (b("2026-03-28T12:00"), 6 * H, b("2026-04-05T01:00")),
        ],
    );
    // Fall: 00:00 CEST = 22:00Z, 06:00 CET = 05:00Z → 7 h.
    let (s, e) = (b("2026-10-25T00:00"), b("2026-10-25T06:00"));
    assert_eq!((s, e), (utc("2026-10-24T22:00Z"), utc("2026-10-25T05:00Z")));
    assert_eq!(night.business_between(s, e), 7 * H);
    check_table(
        &night,
        &[
            (s, 3 * H, utc("2026-10-25T01:00Z")), // 02:00 CET, the second 02:00
            (s, 7 * H, e),
        ],
    );
    assert!(night.is_working(utc("2026-10-25T00:30Z"))); // 02:30 CEST
    assert!(night.is_working(utc("2026-10-25T01:30Z"))); // 02:30 CET
    assert!(!night.is_working(e));

    // A window entirely inside the spring gap (02:15–02:45 does not
    // exist): compatible rule shifts it to 03:15–03:45 CEST, 30 min.
    let gap = cal(tz, &hours(&[("sun", &[("02:15", "02:45")])]), &[]);
    assert_eq!(
        gap.business_between(utc("2026-03-28T00:00Z"), utc("2026-03-30T00:00Z")),
        30 * M
    );
    assert!(gap.is_working(utc("2026-03-29T01:30Z")));
    assert_eq!(
        gap.next_working(utc("2026-03-28T00:00Z")),
        utc("2026-03-29T01:15Z")
    );
}

#[test]
fn calendar_dst_new_york() {
    let tz = "America/New_York";
    let n = |s| at(tz, s);
    let office = cal(tz, &weekdays(&[("09:00", "17:00")]), &[]);
    check_table(
        &office,
        &[
            (n("2026-03-06T16:00"), 8 * H, n("2026-03-09T16:00")),
            (n("2026-10-30T16:00"), 8 * H, n("2026-11-02T16:00")),
        ],
    );
    assert_eq!(n("2026-03-09T16:00"), utc("2026-03-09T20:00Z"));
    assert_eq!(n("2026-11-02T16:00"), utc("2026-11-02T21:00Z"));
    let night = cal(tz, &hours(&[("sun", &[("01:00", "03:00")])]), &[]);
    // Spring 2026-03-08: 01:00 EST (06:00Z) → 03:00 EDT (07:00Z): 1 h.
    assert_eq!(
        night.business_between(utc("2026-03-08T00:00Z"), utc("2026-03-09T00:00Z")),
        H
    );
    // Fall 2026-11-01: 01:00 EDT (05:00Z, earlier) → 03:00 EST (08:00Z): 3 h.
    assert_eq!(
        night.business_between(utc("2026-11-01T00:00Z"), utc("2026-11-02T00:00Z")),
        3 * H
    );
    assert_eq!(
        night.add_business(utc("2026-10-31T00:00Z"), 150 * M),
        utc("2026-11-01T07:30Z")
    );
}

#[test]
fn calendar_from_parts_errors() {
    let ok = weekdays(&[("09:00", "17:00")]);
    let cases: Vec<(&str, Hours, Vec<&str>, &str, &str)> = vec![
        (
            "Mars/Olympus",
            ok.clone(),
            vec![],
            "timezone",
            "unknown time zone",
        ),
        ("", ok.clone(), vec![], "timezone", "unknown time zone"),
        (
            "UTC",
            hours(&[("mon", &[("25:00", "26:00")])]),
            vec![],
            "hours",
            "mon",
        ),
        (
            "UTC",
            hours(&[("mon", &[("09:00", "9am")])]),
            vec![],
            "hours",
            "9am",
        ),
        (
            "UTC",
            hours(&[("mon", &[("24:00", "24:00")])]),
            vec![],
            "hours",
            "24:00",
        ),
        (
            "UTC",
            hours(&[("tue", &[("17:00", "09:00")])]),
            vec![],
            "hours",
            "not after",
        ),
        (
            "UTC",
            hours(&[("tue", &[("09:00", "09:00")])]),
            vec![],
            "hours",
            "not after",
        ),
        (
            "UTC",
            hours(&[("wed", &[("13:00", "17:00"), ("09:00", "13:30")])]),
            vec![],
            "hours",
            "wed: windows 09:00-13:30 and 13:00-17:00 overlap",
        ),
        (
            "UTC",
            hours(&[("funday", &[("09:00", "17:00")])]),
            vec![],
            "hours",
            "funday",
        ),
        (
            "UTC",
            ok.clone(),
            vec!["2026-02-30"],
            "holidays",
            "2026-02-30",
        ),
        ("UTC", ok.clone(), vec!["26-1-1"], "holidays", "26-1-1"),
        (
            "UTC",
            BTreeMap::new(),
            vec![],
            "hours",
            "the calendar has no working time",
        ),
        (
            "UTC",
            hours(&[("mon", &[])]),
            vec![],
            "hours",
            "the calendar has no working time",
        ),
    ];
    for (tz, h, hol, want_field, want_msg) in cases {
        let hol: Vec<String> = hol.into_iter().map(String::from).collect();
        match Calendar::from_parts(tz, &h, &hol) {
            Err(CoreError::Invalid { field, message }) => {
                assert_eq!(field, want_field, "{tz} {h:?} {hol:?}: {message}");
                assert!(message.contains(want_msg), "{message:?} lacks {want_msg:?}");
            }
            other => panic!("{tz} {h:?} {hol:?}: expected an error, got {other:?}"),
        }
    }
}

#[test]
fn calendar_hours_map_round_trip() {
    let h = hours(&[
        ("mon", &[("09:00", "12:00"), ("13:00", "17:00")]),
        ("sat", &[("00:00", "24:00")]),
        ("sun", &[("22:30", "23:45")]),
    ]);
    let c = cal("Asia/Kolkata", &h, &["2026-12-25", "2026-01-01"]);
    assert_eq!(c.hours_map(), h);
    assert_eq!(c.holiday_strings(), vec!["2026-01-01", "2026-12-25"]);
    let back = Calendar::from_parts(&c.timezone, &c.hours_map(), &c.holiday_strings()).unwrap();
    assert_eq!(back, c);
    let d = Calendar::default_utc();
    let back = Calendar::from_parts(&d.timezone, &d.hours_map(), &[]).unwrap();
    assert_eq!(back, d);
    // Windows given out of order are sorted.
    let c = cal(
        "UTC",
        &hours(&[("mon", &[("13:00", "17:00"), ("09:00", "12:00")])]),
        &[],
    );
    assert_eq!(
        c.week[0][0],
        Window {
            start_min: 540,
            end_min: 720
        }
    );
}

#[test]
fn calendar_holidays_from_ics() {
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n\
BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20261225\r\nDTEND;VALUE=DATE:20261227\r\n\
SUMMARY:Christmas and\r\n  Boxing Day\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:2\r\nDTSTART;VALUE=DATE:2027\r\n 0101\r\nSUMMARY:New Year\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:3\r\nDTSTART;TZID=Europe/Berlin:20261224T100000\r\n\
DTEND;TZID=Europe/Berlin:20261224T120000\r\nSUMMARY:Party (timed)\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nDTSTART:20270601\r\nDURATION:P2D\r\nBEGIN:VALARM\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";
    let got = Calendar::holidays_from_ics(ics).unwrap();
    let want: Vec<Date> = [
        "2026-12-25",
        "2026-12-26",
        "2027-01-01",
        "2027-06-01",
        "2027-06-02",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    assert_eq!(got, want);
    // LF line endings work too.
    assert_eq!(
        Calendar::holidays_from_ics(&ics.replace("\r\n", "\n")).unwrap(),
        want
    );
    for bad in [
            "hello",
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261332\nEND:VEVENT\nEND:VCALENDAR",
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261201\nEND:VCALENDAR",
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\nDTEND;VALUE=DATE:20280101\nEND:VEVENT\nEND:VCALENDAR",
        ] {
            let err = Calendar::holidays_from_ics(bad).unwrap_err();
            assert!(matches!(err, CoreError::Invalid { ref field, .. } if field == "holidays"));
        }
}

// ---- property tests over a deterministic generator -------------------

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo) as u64) as i64
    }
}

const ZONES: [&str; 4] = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"];
const START_2025: i64 = 1_735_689_600_000;
const END_2027: i64 = 1_830_297_600_000;

fn random_calendar(rng: &mut Rng) -> Calendar {
    let timezone = ZONES[rng.below(4) as usize].to_string();
    let mut week: [Vec<Window>; 7] = Default::default();
    for day in week.iter_mut() {
        if rng.below(10) < 3 {
            continue;
        }
        let k = 1 + rng.below(3) as usize;
        let mut points: Vec<u16> = (0..2 * k)
            .map(|_| match rng.below(4) {
                0 => 0,
                1 => 1440,
                _ => (rng.below(1441)) as u16,
            })
            .collect();
        points.sort_unstable();
        points.dedup();
        for pair in points.chunks_exact(2) {
            day.push(Window {
                start_min: pair[0],
                end_min: pair[1],
            });
        }
    }
    if week.iter().all(Vec::is_empty) {
        week[0].push(Window {
            start_min: 540,
            end_min: 1020,
        });
    }
    let holidays = (0..rng.below(12))
        .filter_map(|_| date_from_day(rng.range(20_089, 21_185)))
        .collect();
    let c = Calendar {
        timezone,
        week,
        holidays,
        day_minutes: DEFAULT_DAY_MINUTES,
    };
    // Every generated calendar is valid API input and round-trips.
    let back = Calendar::from_parts(&c.timezone, &c.hours_map(), &c.holiday_strings())
        .expect("generated calendar is valid");
    assert_eq!(back, c);
    c
}

/// DST transitions of the zones above in 2025–2027, to aim instants at.
fn transitions() -> Vec<i64> {
    let mut out = Vec::new();
    for z in ZONES {
        let tz = TimeZone::get(z).unwrap();
        let from = Timestamp::from_millisecond(START_2025).unwrap();
        for t in tz.following(from) {
            let ms = t.timestamp().as_millisecond();
            if ms > END_2027 {
                break;
            }
            out.push(ms);
        }
    }
    out
}

fn random_instant(rng: &mut Rng, trs: &[i64]) -> i64 {
    let t = match rng.below(4) {
        0 => trs[rng.below(trs.len() as u64) as usize] + rng.range(-3 * DAY_MS, 3 * DAY_MS),
        _ => rng.range(START_2025, END_2027),
    };
    if rng.below(2) == 0 {
        t - t.rem_euclid(M)
    } else {
        t
    }
}

fn random_amount(rng: &mut Rng) -> i64 {
    match rng.below(5) {
        0 => 0,
        1 => rng.range(1, 2 * H),
        2 => M * rng.range(1, 20 * 480),
        _ => rng.range(1, 20 * 8 * H + 1),
    }
}

#[test]
fn calendar_properties() {
    let trs = transitions();
    assert!(trs.len() >= 12, "{}", trs.len());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..3_000 {
        let c = random_calendar(&mut rng);
        let t = random_instant(&mut rng, &trs);
        let a = random_amount(&mut rng);
        let b = random_amount(&mut rng);
        let ctx = || {
            format!(
                "case {case}: {c:?} t={} a={a} b={b}",
                crate::clock::rfc3339(t)
            )
        };

        let x = c.add_business(t, a);
        assert!(x >= t, "{}", ctx());
        // Additivity (holds for every a, b >= 0 under the stated rule).
        assert_eq!(c.add_business(x, b), c.add_business(t, a + b), "{}", ctx());
        // Inverse.
        assert_eq!(c.business_between(t, x), a, "{}", ctx());
        if a == 0 {
            assert_eq!(x, t, "{}", ctx());
        } else {
            // Inside a window or exactly at a window's end.
            assert!(c.is_working(x) || c.is_working(x - 1), "{}", ctx());
            assert!(c.is_working(x - 1), "{}", ctx());
        }
        // next_working.
        let n = c.next_working(t);
        assert!(n >= t && c.is_working(n), "{}", ctx());
        assert_eq!(c.business_between(t, n), 0, "{}", ctx());
        assert_eq!(c.is_working(t), n == t, "{}", ctx());
        // Between is additive over a split point.
        let y = t + rng.range(0, 30 * DAY_MS);
        let mid = rng.range(t, y + 1);
        assert_eq!(
            c.business_between(t, y),
            c.business_between(t, mid) + c.business_between(mid, y),
            "{}",
            ctx()
        );
        // Week skipping agrees with walking one day at a time.
        let chunked: i64 = (0..30)
            .map(|d| c.business_between(t + d * DAY_MS, (t + (d + 1) * DAY_MS).min(y)))
            .sum();
        assert_eq!(c.business_between(t, y), chunked, "{}", ctx());
        // Holidays never work.
        let tz = TimeZone::get(&c.timezone).unwrap();
        for h in &c.holidays {
            let minute = rng.below(1440) as i8;
            let dt = h.at(0, 0, 0, 0) + jiff::Span::new().minutes(i64::from(minute));
            let z = dt.to_zoned(tz.clone()).unwrap();
            if z.date() == *h {
                assert!(
                    !c.is_working(z.timestamp().as_millisecond()),
                    "{} {h}",
                    ctx()
                );
            }
        }
        // Oracle away from offset changes: wall-clock lookup.
        let off = |ms: i64| tz.to_offset(Timestamp::from_millisecond(ms).unwrap());
        if off(t - 2 * DAY_MS) == off(t + 2 * DAY_MS) {
            assert_eq!(c.is_working(t), brute_is_working(&c, &tz, t), "{}", ctx());
        }
    }
}

fn brute_is_working(c: &Calendar, tz: &TimeZone, at: i64) -> bool {
    let z = Timestamp::from_millisecond(at)
        .unwrap()
        .to_zoned(tz.clone());
    if c.holidays.contains(&z.date()) {
        return false;
    }
    let minute = i64::from(z.hour()) * 60 + i64::from(z.minute());
    let wd = z.weekday().to_monday_zero_offset() as usize;
    c.week[wd]
        .iter()
        .any(|w| i64::from(w.start_min) <= minute && minute < i64::from(w.end_min))
}

#[test]
fn calendar_between_matches_minute_oracle() {
    let mut rng = Rng(42);
    for case in 0..200 {
        let mut c = random_calendar(&mut rng);
        if c.timezone != "UTC" {
            c.timezone = "Asia/Kolkata".into(); // no DST: wall-clock oracle is exact
        }
        let tz = TimeZone::get(&c.timezone).unwrap();
        let a = rng.range(START_2025, END_2027) / M * M;
        let b = a + M * rng.range(0, 3 * 1440);
        let brute: i64 = (a / M..b / M)
            .filter(|m| brute_is_working(&c, &tz, m * M))
            .count() as i64
            * M;
        assert_eq!(
            c.business_between(a, b),
            brute,
            "case {case}: {c:?} {a} {b}"
        );
    }
}

#[test]
fn calendar_without_working_time_never_loops() {
    let mut c = Calendar::default_utc();
    c.week = Default::default();
    assert_eq!(c.add_business(0, H), i64::MAX);
    assert_eq!(c.next_working(0), i64::MAX);
    assert!(!c.is_working(0));
    assert_eq!(c.business_between(0, WEEK_MS), 0);
    // Unknown zone in a hand-built calendar behaves as UTC.
    c = Calendar::default_utc();
    c.timezone = "Nowhere/Special".into();
    assert_eq!(
        c.add_business(utc("2026-01-09T16:00Z"), 8 * H),
        utc("2026-01-12T16:00Z")
    );
    // Extreme instants do not panic.
    let d = Calendar::default_utc();
    assert_eq!(d.add_business(i64::MAX, H), i64::MAX);
    assert_eq!(
        d.add_business(utc("9998-12-30T10:00Z"), 100 * 8 * H),
        i64::MAX
    );
}

#[test]
fn calendar_day_numbers_round_trip() {
    for n in [-719_000, -1, 0, 1, 20_089, 21_184, MAX_DAY] {
        let d = date_from_day(n).unwrap();
        assert_eq!(day_number(d), n);
    }
    assert_eq!(weekday(day_number("2026-01-12".parse().unwrap())), 0);
    assert_eq!(weekday(day_number("2026-03-29".parse().unwrap())), 6);
}
