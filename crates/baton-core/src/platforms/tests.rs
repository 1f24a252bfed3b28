//! Tests of the platform catalog: the built-in entries, custom platforms
//! and their validation.

use super::*;

const REQUIRED: [&str; 22] = [
    "meta_page",
    "meta_ad_account",
    "meta_pixel",
    "meta_catalog",
    "instagram",
    "google_ads",
    "ga4",
    "gtm",
    "search_console",
    "merchant_center",
    "google_business_profile",
    "youtube",
    "tiktok_ads",
    "linkedin_page",
    "linkedin_campaign_manager",
    "pinterest",
    "snapchat",
    "x_ads",
    "shopify",
    "wordpress",
    "google_drive",
    "dropbox",
];

fn settings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn get(key: &str) -> &'static Platform {
    builtin_get(key).unwrap_or_else(|| panic!("{key} missing from the catalog"))
}

#[test]
fn shipped_catalog_parses_and_has_every_required_platform() {
    let parsed = parse_catalog(CATALOG_TOML).expect("platforms.toml parses");
    assert_eq!(parsed, builtin());
    for key in REQUIRED {
        assert!(builtin_get(key).is_some(), "{key} missing");
    }
    let mut keys = HashSet::new();
    for p in builtin() {
        assert!(
            keys.insert(p.key.as_str()),
            "duplicate platform key {}",
            p.key
        );
        assert!(is_key(&p.key), "{}: bad key", p.key);
        assert!(!p.custom, "{}: built-in platforms are not custom", p.key);
    }
    assert!(builtin_get("myspace").is_none());
}

#[test]
fn shipped_catalog_has_no_misspelt_fields() {
    // serde ignores unknown keys, so a typo such as `mistake =` would
    // silently drop a list; check the raw tables against the struct.
    let allowed_platform = [
        "key",
        "name",
        "vendor",
        "asset_label",
        "permissions",
        "default_permission",
        "settings",
        "instructions",
        "mistakes",
        "verify",
    ];
    let raw: toml::Table = toml::from_str(CATALOG_TOML).unwrap();
    let platforms = raw["platform"].as_array().unwrap();
    assert_eq!(raw.len(), 1, "only [[platform]] tables at the top level");
    for p in platforms {
        let p = p.as_table().unwrap();
        for k in p.keys() {
            assert!(allowed_platform.contains(&k.as_str()), "unknown field {k}");
        }
        for (list, allowed) in [
            ("permissions", ["key", "name", "description"]),
            ("settings", ["key", "label", "help"]),
        ] {
            for item in p[list].as_array().unwrap() {
                for k in item.as_table().unwrap().keys() {
                    assert!(allowed.contains(&k.as_str()), "unknown {list} field {k}");
                }
            }
        }
    }
}

#[test]
fn every_builtin_platform_is_complete_and_consistent() {
    for p in builtin() {
        let k = &p.key;
        assert!(
            !p.name.is_empty() && !p.vendor.is_empty(),
            "{k}: name/vendor"
        );
        assert!(!p.asset_label.is_empty(), "{k}: asset_label");
        assert!(p.permissions.len() >= 2, "{k}: at least two levels");
        let mut perm_keys = HashSet::new();
        for perm in &p.permissions {
            assert!(is_key(&perm.key), "{k}: bad permission key {}", perm.key);
            assert!(perm_keys.insert(&perm.key), "{k}: duplicate {}", perm.key);
            assert!(
                !perm.name.is_empty() && !perm.description.is_empty(),
                "{k}.{}",
                perm.key
            );
        }
        let default_rank = p.rank(&p.default_permission);
        assert!(default_rank.is_some(), "{k}: default not among permissions");
        assert!(
            default_rank < Some(p.permissions.len() - 1),
            "{k}: the default must not be the most privileged level"
        );
        assert!((4..=8).contains(&p.instructions.len()), "{k}: 4-8 steps");
        assert!((2..=4).contains(&p.mistakes.len()), "{k}: 2-4 mistakes");
        assert!((2..=4).contains(&p.verify.len()), "{k}: 2-4 verify lines");
        assert!(
            p.instructions.iter().any(|s| s.contains("{permission}")),
            "{k}: the steps must name the requested level"
        );
        assert!(
            p.mistakes
                .iter()
                .any(|m| m.to_lowercase().contains("password")),
            "{k}: a mistake must warn against sharing the password"
        );
        let mut setting_keys = HashSet::new();
        for s in &p.settings {
            assert!(is_key(&s.key), "{k}: bad setting key {}", s.key);
            assert!(
                setting_keys.insert(&s.key),
                "{k}: duplicate setting {}",
                s.key
            );
            assert!(
                !s.label.is_empty() && !s.help.is_empty(),
                "{k}: setting {}",
                s.key
            );
        }
    }
}

#[test]
fn every_placeholder_is_one_the_platform_can_fill() {
    for p in builtin() {
        let is_setting = |n: &str| p.settings.iter().any(|s| s.key == n);
        for step in &p.instructions {
            for name in placeholders(step) {
                assert!(
                    CONTEXT_PLACEHOLDERS.contains(&name) || is_setting(name),
                    "{}: unknown placeholder {{{name}}} in {step:?}",
                    p.key
                );
            }
        }
        for line in &p.mistakes {
            for name in placeholders(line) {
                assert!(
                    name == "agency" || is_setting(name),
                    "{}: mistakes may only use {{agency}} and settings, not {{{name}}}",
                    p.key
                );
            }
        }
        for line in &p.verify {
            assert!(
                !line.contains('{'),
                "{}: verify lines are not rendered",
                p.key
            );
        }
        // Every declared setting is actually used somewhere.
        for s in &p.settings {
            let token = format!("{{{}}}", s.key);
            assert!(
                p.instructions
                    .iter()
                    .chain(&p.mistakes)
                    .any(|t| t.contains(&token)),
                "{}: setting {} is never used",
                p.key,
                s.key
            );
        }
    }
}

#[test]
fn partner_platforms_warn_against_adding_a_person() {
    let partner_based = builtin()
        .iter()
        .filter(|p| p.vendor == "Meta" || p.key == "google_ads");
    let mut count = 0;
    for p in partner_based {
        count += 1;
        assert!(
            p.mistakes.iter().any(|m| {
                let m = m.to_lowercase();
                m.contains("partner") || m.contains("manager")
            }),
            "{}: must say to add the agency as a partner / manager account",
            p.key
        );
    }
    assert_eq!(count, 6, "five Meta platforms and Google Ads");
}

#[test]
fn rank_orders_least_to_most_privilege() {
    let ga4 = get("ga4");
    let viewer = ga4.rank("viewer").unwrap();
    let analyst = ga4.rank("analyst").unwrap();
    let administrator = ga4.rank("administrator").unwrap();
    assert_eq!(viewer, 0);
    assert!(viewer < analyst && analyst < administrator);
    assert_eq!(ga4.rank("superuser"), None);
    assert_eq!(ga4.permission("analyst").unwrap().name, "Analyst");
    assert!(ga4.permission("superuser").is_none());

    // Spot checks of the platforms' own orderings.
    for (platform, lower, higher) in [
        ("gtm", "edit", "publish"),
        ("google_ads", "read_only", "admin"),
        ("meta_page", "content", "full_control"),
        ("youtube", "editor_limited", "manager"),
        ("linkedin_campaign_manager", "viewer", "account_manager"),
        ("search_console", "restricted", "owner"),
    ] {
        let p = get(platform);
        assert!(
            p.rank(lower).unwrap() < p.rank(higher).unwrap(),
            "{platform}"
        );
    }
}

#[test]
fn render_steps_fills_settings_permission_and_asset() {
    let page = get("meta_page");
    let steps = page.render_steps(
        "Northwind",
        &settings(&[("meta_business_id", "1234567890123456")]),
        "content",
        Some("  Acme Bakery  "),
    );
    assert_eq!(steps.len(), page.instructions.len());
    let all = steps.join("\n");
    assert!(
        all.contains("Northwind's Business ID: 1234567890123456."),
        "{all}"
    );
    assert!(all.contains("your Page (Acme Bakery)"), "{all}");
    assert!(all.contains(&page.permission("content").unwrap().name));
    assert!(!all.contains('{') && !all.contains('['), "{all}");
}

#[test]
fn a_missing_setting_reads_neutrally_and_is_reported() {
    let page = get("meta_page");
    for supplied in [settings(&[]), settings(&[("meta_business_id", "   ")])] {
        let lines = page.render_step_lines("Northwind", &supplied, "content", None);
        let all: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        let all = all.join("\n");
        assert!(
            all.contains("Enter Northwind's Business ID: Northwind's Meta Business ID."),
            "{all}"
        );
        assert!(
            !all.contains('[') && !all.contains("ask Northwind"),
            "{all}"
        );
        assert!(all.contains("the one you agreed with Northwind"), "{all}");
        // The step that needs it says so, the others do not.
        let flagged: Vec<&RenderedLine> = lines.iter().filter(|l| !l.missing.is_empty()).collect();
        assert!(!flagged.is_empty());
        for l in &lines {
            assert_eq!(
                l.missing.is_empty(),
                !l.text.contains("Northwind's Meta Business ID"),
                "{}",
                l.text
            );
        }
        assert_eq!(flagged[0].missing, ["Meta Business ID"]);
        let missing = page.missing_settings(&supplied);
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].key, "meta_business_id");
    }
    let filled = settings(&[("meta_business_id", "123")]);
    assert!(page.missing_settings(&filled).is_empty());
    assert!(page
        .render_step_lines("Northwind", &filled, "content", None)
        .iter()
        .all(|l| l.missing.is_empty()));
}

#[test]
fn setup_warnings_name_each_platform_once_with_what_it_lacks() {
    let catalog = builtin();
    let values = settings(&[("agency_email", "ops@northwind.example")]);
    let w = setup_warnings(
        catalog,
        &[
            "shopify",
            "ga4",
            "meta_page",
            "shopify",
            "no_such",
            "instagram",
        ],
        &values,
    );
    let got: Vec<(&str, Vec<&str>)> = w
        .iter()
        .map(|w| {
            (
                w.platform.as_str(),
                w.missing.iter().map(|f| f.key.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("shopify", vec!["shopify_partner_name"]),
            ("meta_page", vec!["meta_business_id"]),
            ("instagram", vec!["meta_business_id"]),
        ]
    );
    let m = w[0].message();
    assert!(
            m.starts_with("Shopify store: the client's steps need your Shopify Partner organization name, which is not set."),
            "{m}"
        );
    assert!(m.contains("Settings → Onboarding"), "{m}");
    // Every value filled in: no warnings for the whole catalog.
    let all: BTreeMap<String, String> = settings_fields(catalog)
        .into_iter()
        .map(|f| (f.key, "x".to_string()))
        .collect();
    let keys: Vec<&str> = catalog.iter().map(|p| p.key.as_str()).collect();
    assert!(setup_warnings(catalog, &keys, &all).is_empty());
    // None filled in: every platform with settings is named.
    let none = setup_warnings(catalog, &keys, &BTreeMap::new());
    assert_eq!(
        none.len(),
        catalog.iter().filter(|p| !p.settings.is_empty()).count()
    );
    let two = SetupWarning {
        platform: "x".into(),
        platform_name: "X".into(),
        missing: get("meta_page")
            .settings
            .iter()
            .chain(&get("ga4").settings)
            .cloned()
            .collect(),
    };
    assert!(two
        .message()
        .contains("need your Meta Business ID and Agency access email, which are not set"));
}

#[test]
fn render_steps_never_leaves_a_placeholder_for_builtins() {
    for p in builtin() {
        for perm in &p.permissions {
            let texts = p
                .render_steps("", &BTreeMap::new(), &perm.key, None)
                .into_iter()
                .chain(p.render_mistakes("", &BTreeMap::new()));
            for t in texts {
                assert!(!t.contains('{') && !t.contains('}'), "{}: {t}", p.key);
            }
        }
    }
}

#[test]
fn render_steps_falls_back_to_the_key_and_does_not_rescan_values() {
    let page = get("meta_page");
    let steps = page.render_steps(
        "{agency}",
        &settings(&[("meta_business_id", "{asset}")]),
        "no_such_level",
        Some("{permission}"),
    );
    let all = steps.join("\n");
    assert!(all.contains("exactly this access: no_such_level."), "{all}");
    assert!(all.contains("{agency}'s Business ID: {asset}."), "{all}");
    assert!(all.contains("your Page ({permission})"), "{all}");
}

#[test]
fn render_mistakes_fills_agency_and_settings() {
    let ads = get("google_ads");
    let lines = ads.render_mistakes(
        "Northwind",
        &settings(&[("google_ads_manager_id", "111-222-3333")]),
    );
    assert_eq!(lines.len(), ads.mistakes.len());
    let all = lines.join("\n");
    assert!(
        all.contains("Northwind's manager account (111-222-3333)"),
        "{all}"
    );
    assert!(!all.contains('{'), "{all}");
}

#[test]
fn scan_keeps_non_identifier_braces_literal() {
    assert_eq!(
        placeholders("{agency} {} { x } {Bad} {{asset}} {unclosed"),
        ["agency", "asset"]
    );
    let p = Platform {
        instructions: vec!["a {} b {{agency}} c { asset } {unknown} {".into()],
        ..custom_platform()
    };
    assert_eq!(
        p.render_steps("N", &BTreeMap::new(), "editor", None),
        ["a {} b {N} c { asset } {unknown} {"]
    );
}

#[test]
fn settings_fields_dedups_shared_keys_in_first_seen_order() {
    let fields = settings_fields(builtin());
    let keys: Vec<&str> = fields.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys.iter().filter(|k| **k == "meta_business_id").count(), 1);
    assert_eq!(keys.iter().filter(|k| **k == "agency_email").count(), 1);
    assert_eq!(keys[0], "meta_business_id", "first-seen order");
    let unique: HashSet<&str> = keys.iter().copied().collect();
    assert_eq!(unique.len(), keys.len());

    let meta: Vec<&Platform> = builtin().iter().filter(|p| p.vendor == "Meta").collect();
    assert_eq!(meta.len(), 5);
    let meta_fields = settings_fields(meta);
    assert_eq!(meta_fields.len(), 1);
    assert_eq!(meta_fields[0].key, "meta_business_id");

    // A custom platform's field joins the list; a repeated key does not.
    let custom = custom_platform();
    let mixed = settings_fields([get("ga4"), &custom, get("dropbox")]);
    let keys: Vec<&str> = mixed.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, ["agency_email", "canva_team_id"]);
}

#[test]
fn platform_round_trips_through_json_with_defaults() {
    let p = validate_custom(custom_platform()).unwrap();
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<Platform>(&json).unwrap(), p);

    let minimal = r#"{"key":"k1","name":"K","asset_label":"A",
            "permissions":[{"key":"r","name":"R"}],"default_permission":"r",
            "instructions":["Do it"]}"#;
    let p: Platform = serde_json::from_str(minimal).unwrap();
    assert!(p.settings.is_empty() && p.mistakes.is_empty() && p.verify.is_empty());
    assert!(!p.custom && p.vendor.is_empty() && p.permissions[0].description.is_empty());
}

fn custom_platform() -> Platform {
    Platform {
        key: "  canva  ".into(),
        name: "  Canva team ".into(),
        vendor: " Canva ".into(),
        asset_label: " Team name ".into(),
        permissions: vec![
            Permission {
                key: " viewer ".into(),
                name: " Viewer ".into(),
                description: " Can view designs ".into(),
            },
            Permission {
                key: "editor".into(),
                name: "Editor".into(),
                description: String::new(),
            },
        ],
        default_permission: " editor ".into(),
        settings: vec![SettingField {
            key: "canva_team_id".into(),
            label: " Canva team ID ".into(),
            help: String::new(),
        }],
        instructions: vec![
            " Open canva.com and your team ({asset}). ".into(),
            "Invite {agency} ({canva_team_id}) as {permission}.".into(),
        ],
        mistakes: vec![" Never share your password with {agency}. ".into()],
        verify: vec![" A designer opens the brand kit. ".into()],
        custom: false,
    }
}

#[test]
fn validate_custom_trims_and_marks_custom() {
    let p = validate_custom(custom_platform()).unwrap();
    assert!(p.custom);
    assert_eq!(p.key, "canva");
    assert_eq!(p.name, "Canva team");
    assert_eq!(p.vendor, "Canva");
    assert_eq!(p.asset_label, "Team name");
    assert_eq!(p.permissions[0].key, "viewer");
    assert_eq!(p.permissions[0].name, "Viewer");
    assert_eq!(p.permissions[0].description, "Can view designs");
    assert_eq!(p.default_permission, "editor");
    assert_eq!(p.settings[0].label, "Canva team ID");
    assert_eq!(p.instructions[0], "Open canva.com and your team ({asset}).");
    assert_eq!(p.mistakes[0], "Never share your password with {agency}.");
    assert_eq!(p.verify[0], "A designer opens the brand kit.");
    assert_eq!(p.rank("editor"), Some(1));
    // Validating again is a no-op: stored platforms can be re-checked.
    assert_eq!(validate_custom(p.clone()).unwrap(), p);
}

/// How a case breaks a valid custom platform.
type Break = fn(&mut Platform);

/// Broken identities, names and permission levels, with the field each
/// error names.
fn bad_identity_and_permissions() -> Vec<(&'static str, Break, &'static str)> {
    let cases: &[(&str, Break, &str)] = &[
        ("bad key", |p| p.key = "Canva!".into(), "key"),
        ("one-letter key", |p| p.key = "c".into(), "key"),
        ("key too long", |p| p.key = "c".repeat(41), "key"),
        ("builtin key", |p| p.key = " ga4 ".into(), "key"),
        ("empty name", |p| p.name = "   ".into(), "name"),
        ("long name", |p| p.name = "n".repeat(101), "name"),
        (
            "control character",
            |p| p.name = "Can\u{7}va".into(),
            "name",
        ),
        ("long vendor", |p| p.vendor = "v".repeat(101), "vendor"),
        (
            "empty asset label",
            |p| p.asset_label.clear(),
            "asset_label",
        ),
        (
            "long asset label",
            |p| p.asset_label = "a".repeat(201),
            "asset_label",
        ),
        ("no permissions", |p| p.permissions.clear(), "permissions"),
        (
            "too many permissions",
            |p| {
                p.permissions = (0..13)
                    .map(|i| Permission {
                        key: format!("level_{i}"),
                        name: format!("Level {i}"),
                        description: String::new(),
                    })
                    .collect();
                p.default_permission = "level_0".into();
            },
            "permissions",
        ),
        (
            "duplicate permission key",
            |p| p.permissions[1].key = "viewer".into(),
            "permissions",
        ),
        (
            "bad permission key",
            |p| p.permissions[1].key = "Edit".into(),
            "permissions",
        ),
        (
            "empty permission name",
            |p| p.permissions[1].name = " ".into(),
            "permissions",
        ),
        (
            "long permission name",
            |p| p.permissions[1].name = "x".repeat(101),
            "permissions",
        ),
        (
            "default not a permission",
            |p| p.default_permission = "owner".into(),
            "default_permission",
        ),
    ];
    cases.to_vec()
}

/// Broken instructions, mistakes, verify lines and settings, with the
/// field each error names.
fn bad_texts_and_settings() -> Vec<(&'static str, Break, &'static str)> {
    let cases: &[(&str, Break, &str)] = &[
        (
            "empty instructions",
            |p| p.instructions.clear(),
            "instructions",
        ),
        (
            "blank step",
            |p| p.instructions[1] = "  ".into(),
            "instructions",
        ),
        (
            "over-long step",
            |p| p.instructions[0] = "s".repeat(501),
            "instructions",
        ),
        (
            "too many steps",
            |p| p.instructions = vec!["Step".into(); 21],
            "instructions",
        ),
        (
            "typo placeholder",
            |p| p.instructions[1] = "Invite {agnecy}".into(),
            "instructions",
        ),
        (
            "request placeholder in mistakes",
            |p| p.mistakes[0] = "Not {permission}".into(),
            "mistakes",
        ),
        (
            "too many mistakes",
            |p| p.mistakes = vec!["Don't".into(); 11],
            "mistakes",
        ),
        (
            "over-long verify line",
            |p| p.verify[0] = "v".repeat(501),
            "verify",
        ),
        (
            "bad setting key",
            |p| p.settings[0].key = "Team ID".into(),
            "settings",
        ),
        (
            "reserved setting key",
            |p| p.settings[0].key = "agency".into(),
            "settings",
        ),
        (
            "empty setting label",
            |p| p.settings[0].label.clear(),
            "settings",
        ),
        (
            "duplicate setting key",
            |p| p.settings.push(p.settings[0].clone()),
            "settings",
        ),
        (
            "too many settings",
            |p| {
                p.settings = (0..11)
                    .map(|i| SettingField {
                        key: format!("setting_{i}"),
                        label: format!("Setting {i}"),
                        help: String::new(),
                    })
                    .collect();
                p.instructions[1] = "Invite {agency}".into();
            },
            "settings",
        ),
    ];
    cases.to_vec()
}

#[test]
fn validate_custom_rejects_bad_input_with_the_right_field() {
    let cases = [bad_identity_and_permissions(), bad_texts_and_settings()].concat();
    for (what, break_it, expected_field) in &cases {
        let mut p = custom_platform();
        break_it(&mut p);
        match validate_custom(p) {
            Err(CoreError::Invalid { field, .. }) => {
                assert_eq!(&field, expected_field, "{what}");
            }
            other => panic!("{what}: expected an error on {expected_field}, got {other:?}"),
        }
    }

    // The message says where and what, so a form can show it as is.
    let mut p = custom_platform();
    p.instructions[1] = "Invite {agnecy}".into();
    let err = validate_custom(p).unwrap_err().to_string();
    assert_eq!(
            err,
            "instructions: step 2: unknown placeholder {agnecy}; use {agency}, {permission}, {asset} or a settings key"
        );
}

#[test]
fn validate_custom_accepts_the_limits() {
    let mut p = custom_platform();
    p.key = format!("a{}", "b".repeat(39));
    p.name = "n".repeat(100);
    p.asset_label = "a".repeat(200);
    p.instructions = vec!["s".repeat(500); 20];
    p.mistakes = vec!["m".repeat(500); 10];
    p.verify = Vec::new();
    p.vendor = String::new();
    let p = validate_custom(p).unwrap();
    assert_eq!(p.key.len(), 40);
    assert_eq!(p.instructions.len(), 20);
}
