//! Criterion benchmarks of the hot pure functions every write goes through:
//! id generation, the lifecycle state machine, the audit chain hash and name
//! validation. Run with `cargo bench -p baton-core --bench core`.

use std::hint::black_box;

use std::collections::BTreeMap;

use baton_core::audit::{chain_hash, AuditFields, GENESIS};
use baton_core::calendar::Calendar;
use baton_core::ids::{self, new_id};
use baton_core::lifecycle::{transition, ClientEventType, Lifecycle};
use baton_core::validate;
use criterion::{criterion_group, criterion_main, Criterion};

const NOW_MS: i64 = 1_790_000_000_000;

fn bench_ids(c: &mut Criterion) {
    c.bench_function("ids::new_id", |b| {
        b.iter(|| new_id(black_box(ids::CLIENT), black_box(NOW_MS)))
    });
    let id = new_id(ids::CLIENT, NOW_MS);
    c.bench_function("ids::has_shape", |b| {
        b.iter(|| ids::has_shape(black_box(&id), black_box(ids::CLIENT)))
    });
}

fn bench_lifecycle(c: &mut Criterion) {
    c.bench_function("lifecycle::transition allowed", |b| {
        b.iter(|| {
            transition(
                black_box(Lifecycle::Onboarding),
                black_box(ClientEventType::OnboardingCompleted),
            )
        })
    });
    // The refused move builds its conflict message: the slower path.
    c.bench_function("lifecycle::transition refused", |b| {
        b.iter(|| {
            transition(
                black_box(Lifecycle::Archived),
                black_box(ClientEventType::ContractSigned),
            )
        })
    });
    c.bench_function("lifecycle::full path (5 moves)", |b| {
        b.iter(|| {
            let mut l = Lifecycle::Won;
            for e in [
                ClientEventType::ContractSigned,
                ClientEventType::KickoffScheduled,
                ClientEventType::OnboardingCompleted,
                ClientEventType::ContractEnded,
                ClientEventType::Archived,
            ] {
                l = transition(black_box(l), black_box(e)).expect("allowed");
            }
            l
        })
    });
}

fn bench_audit(c: &mut Criterion) {
    let detail = r#"{"name":"Bluebird Coffee Roasters","website":"https://bluebird.example","lifecycle":"won"}"#;
    let fields = AuditFields {
        hash_version: baton_core::audit::HASH_VERSION,
        agency_id: "agy_01JD0000000000000000000000",
        seq: 4_217,
        recorded_at: NOW_MS,
        actor_kind: "token",
        actor_id: "mem_01JD0000000000000000000001",
        actor_label: "Zapier (Jo Park)",
        action: "client.created",
        entity_type: "client",
        entity_id: "cli_01JD0000000000000000000002",
        ip: "203.0.113.7",
        user_agent: "Zapier",
        detail,
    };
    c.bench_function("audit::chain_hash", |b| {
        b.iter(|| chain_hash(black_box(GENESIS), black_box(&fields)))
    });
}

fn bench_validate(c: &mut Criterion) {
    c.bench_function("validate::name ascii", |b| {
        b.iter(|| validate::name(black_box("name"), black_box("  Harbor Fitness  ")))
    });
    c.bench_function("validate::name unicode 200 chars", |b| {
        let long = "Café Ñandú 🐦 ".repeat(15);
        let long: String = long.chars().take(200).collect();
        b.iter(|| validate::name(black_box("name"), black_box(&long)))
    });
    c.bench_function("validate::name rejected (empty)", |b| {
        b.iter(|| validate::name(black_box("name"), black_box("   ")))
    });
}

fn bench_calendar(c: &mut Criterion) {
    // Friday 2026-09-18 16:00 UTC (18:00 in Berlin): one business day
    // crosses the weekend.
    let friday_16 = 1_789_747_200_000_i64 + 16 * 3_600_000;
    let default = Calendar::default_utc();
    let day = default.business_days_ms(1.0);
    c.bench_function("calendar/add_1_business_day default", |b| {
        b.iter(|| default.add_business(black_box(friday_16), black_box(day)))
    });
    let lunch: BTreeMap<String, Vec<[String; 2]>> = ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|d| {
            (
                d.to_string(),
                vec![
                    ["09:00".to_string(), "12:00".to_string()],
                    ["13:00".to_string(), "17:00".to_string()],
                ],
            )
        })
        .collect();
    let berlin = Calendar::from_parts("Europe/Berlin", &lunch, &["2026-12-25".to_string()])
        .expect("valid calendar");
    c.bench_function("calendar/add_1_business_day berlin lunch", |b| {
        b.iter(|| berlin.add_business(black_box(friday_16), black_box(day)))
    });
    let two_weeks = 14 * 86_400_000_i64;
    c.bench_function("calendar/business_between_2_weeks default", |b| {
        b.iter(|| default.business_between(black_box(friday_16), black_box(friday_16 + two_weeks)))
    });
    c.bench_function("calendar/business_between_2_weeks berlin lunch", |b| {
        b.iter(|| berlin.business_between(black_box(friday_16), black_box(friday_16 + two_weeks)))
    });
    c.bench_function("calendar/add_20_business_days berlin lunch", |b| {
        b.iter(|| berlin.add_business(black_box(friday_16), black_box(20 * day)))
    });
    // An SOP run's due-date arithmetic: at-risk and due instants of the
    // default library's SLAs (wall hours, business hours, business days).
    let library = baton_core::sop::default_library();
    c.bench_function("sop/deadlines all 9 default slas berlin lunch", |b| {
        b.iter(|| {
            for d in &library {
                black_box(d.sla.deadlines(&berlin, black_box(friday_16), 0));
            }
        })
    });
    let days = baton_core::sop::Sla::range(baton_core::sop::SlaUnit::BusinessDays, 2.0, 5.0);
    c.bench_function("sop/deadlines 2-5 business days berlin lunch", |b| {
        b.iter(|| days.deadlines(&berlin, black_box(friday_16), black_box(3_600_000)))
    });
}

criterion_group!(
    benches,
    bench_ids,
    bench_lifecycle,
    bench_audit,
    bench_validate,
    bench_calendar
);
criterion_main!(benches);
