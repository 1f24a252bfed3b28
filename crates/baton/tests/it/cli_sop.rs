//! `baton sop export` / `baton sop import` through the real binary: the
//! exported library, the round trip, an edit becoming a new version, refused
//! files that change nothing, and dry runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sqlx::Connection;

use crate::common;
use common::TempDir;

const DEFAULT_KEYS: [&str; 9] = [
    "sales_handoff",
    "access_setup",
    "content_intake",
    "creative_production",
    "review_approval",
    "publishing_qa",
    "weekly_performance",
    "incident_response",
    "offboarding",
];

/// `baton` on `data_dir` with no inherited `BATON_*` configuration.
fn baton(data_dir: &Path) -> Command {
    common::baton_command(data_dir, None)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run baton")
}

fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A failing command's stderr.
fn fails(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        !out.status.success(),
        "{cmd:?} succeeded:\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stderr)
}

fn create_agency(dir: &Path, name: &str, email: &str) {
    ok(baton(dir).args(["agency", "create", "--name", name, "--admin-email", email]));
}

/// The export without its comments (the header carries the time of export).
fn export(dir: &Path, agency: &str) -> String {
    ok(baton(dir).args(["sop", "export", "--agency", agency]))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// Rows of `sop_versions` (nothing is stored until a SOP is first changed).
async fn stored_versions(dir: &Path) -> i64 {
    let url = format!("sqlite://{}", dir.join("baton.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sop_versions")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    n
}

/// The status word(s) printed for `key` by an import.
fn status<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(key).filter(|r| r.starts_with(' ')))
        .unwrap_or_else(|| panic!("no line for {key}:\n{out}"))
        .trim()
}

#[tokio::test]
async fn export_lists_the_defaults_and_the_round_trip_changes_nothing() {
    let dir = TempDir::new("sop-roundtrip");
    create_agency(dir.path(), "Northwind Social", "a@northwind.test");
    // The only agency: --agency may be left out.
    let exported = ok(baton(dir.path()).args(["sop", "export"]));
    assert!(exported.starts_with("# "), "header comment:\n{exported}");
    assert!(exported.contains("baton sop import"), "{exported}");
    assert!(exported.contains("northwind-social"), "{exported}");
    for key in DEFAULT_KEYS {
        assert!(
            exported.contains(&format!("key = \"{key}\"")),
            "{key} missing:\n{exported}"
        );
    }
    assert_eq!(exported.matches("[[sop]]").count(), 9);
    assert!(exported.contains("sla = { unit = \"hours\", target = 24, limit = 72 }"));

    // --output writes the same library to a file.
    let file = dir.path().join("library.toml");
    let said = ok(baton(dir.path())
        .args(["sop", "export", "--output"])
        .arg(&file));
    assert!(said.contains("library.toml"), "{said}");
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.contains("import library.toml"), "{written}");
    let body = |s: &str| s.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(body(&written), body(&exported));

    let out = ok(baton(dir.path()).args(["sop", "import"]).arg(&file));
    for key in DEFAULT_KEYS {
        assert_eq!(status(&out, key), "unchanged", "{out}");
    }
    assert!(out.contains("0 created, 0 updated, 9 unchanged"), "{out}");
    assert_eq!(
        stored_versions(dir.path()).await,
        0,
        "a round trip wrote versions"
    );
    ok(baton(dir.path()).args(["audit", "verify"]));
}

#[tokio::test]
async fn an_edited_limit_becomes_version_2_and_dry_run_saves_nothing() {
    let dir = TempDir::new("sop-edit");
    create_agency(dir.path(), "Northwind Social", "a@northwind.test");
    let slug = "northwind-social";
    let original = ok(baton(dir.path()).args(["sop", "export", "--agency", slug]));
    let old_sla = "sla = { unit = \"hours\", target = 24, limit = 72 }";
    let new_sla = "sla = { unit = \"hours\", target = 24, limit = 96 }";
    assert_eq!(original.matches(old_sla).count(), 1, "{original}");
    let file = write(dir.path(), "sops.toml", &original.replace(old_sla, new_sla));

    // A dry run says what would change and saves nothing.
    let out = ok(baton(dir.path())
        .args(["sop", "import", "--dry-run", "--agency", slug])
        .arg(&file));
    assert_eq!(status(&out, "access_setup"), "would update to v2", "{out}");
    assert_eq!(status(&out, "offboarding"), "unchanged", "{out}");
    assert!(out.contains("nothing saved"), "{out}");
    assert_eq!(stored_versions(dir.path()).await, 0);
    assert!(export(dir.path(), slug).contains(old_sla));

    let out = ok(baton(dir.path())
        .args([
            "sop",
            "import",
            "--agency",
            slug,
            "--reason",
            "Clients need longer",
        ])
        .arg(&file));
    assert_eq!(status(&out, "access_setup"), "updated to v2", "{out}");
    for key in DEFAULT_KEYS.iter().filter(|k| **k != "access_setup") {
        assert_eq!(status(&out, key), "unchanged", "{out}");
    }
    let after = ok(baton(dir.path()).args(["sop", "export", "--agency", slug]));
    assert!(
        after.contains(new_sla) && !after.contains(old_sla),
        "{after}"
    );
    assert!(
        after.contains("version = 2  # Clients need longer (baton CLI"),
        "{after}"
    );

    // Importing the same file again changes nothing more.
    let out = ok(baton(dir.path())
        .args(["sop", "import", "--agency", slug])
        .arg(&file));
    assert_eq!(status(&out, "access_setup"), "unchanged", "{out}");
    let versions = stored_versions(dir.path()).await;

    // The default reason names the file; a dry run of a further edit saves nothing.
    let edited = after.replace(
        new_sla,
        "sla = { unit = \"hours\", target = 12, limit = 96 }",
    );
    let file2 = write(dir.path(), "second.toml", &edited);
    let out = ok(baton(dir.path())
        .args(["sop", "import", "--dry-run"])
        .arg(&file2));
    assert_eq!(status(&out, "access_setup"), "would update to v3", "{out}");
    assert_eq!(stored_versions(dir.path()).await, versions);
    let out = ok(baton(dir.path()).args(["sop", "import"]).arg(&file2));
    assert_eq!(status(&out, "access_setup"), "updated to v3", "{out}");
    assert!(
        export(dir.path(), slug).contains("version = 3  # Imported from second.toml"),
        "{}",
        export(dir.path(), slug)
    );

    // A new SOP of the agency's own is created at version 1.
    let own = "\n[[sop]]\nkey = \"client_qbr\"\nname = \"Quarterly business review\"\n\
               trigger = \"manual\"\nowner_role = \"account_lead\"\nescalation_role = \"project_manager\"\n\
               sla = { unit = \"business_days\", target = 3, limit = 5 }\n\
               checklist = [{ key = \"deck\", label = \"Deck ready\" }]\n";
    let file3 = write(dir.path(), "own.toml", own);
    let out = ok(baton(dir.path()).args(["sop", "import"]).arg(&file3));
    assert_eq!(status(&out, "client_qbr"), "created v1", "{out}");
    assert!(out.contains("kept as they are"), "{out}");
    assert!(export(dir.path(), slug).contains("key = \"client_qbr\""));
    ok(baton(dir.path()).args(["audit", "verify"]));
}

#[tokio::test]
async fn invalid_files_are_refused_and_change_nothing() {
    let dir = TempDir::new("sop-invalid");
    create_agency(dir.path(), "Northwind Social", "a@northwind.test");
    let original = ok(baton(dir.path()).args(["sop", "export"]));
    let before = export(dir.path(), "northwind-social");
    // Every bad file also carries a valid edit, which must not be saved either.
    let valid_edit = |s: &str| {
        s.replace(
            "sla = { unit = \"hours\", target = 24, limit = 72 }",
            "sla = { unit = \"hours\", target = 24, limit = 96 }",
        )
    };
    let cases: [(&str, String, &[&str]); 6] = [
        (
            "bad unit",
            original.replacen("unit = \"business_days\"", "unit = \"weeks\"", 1),
            &["content_intake", "weeks", "business_days"],
        ),
        (
            "unknown role",
            original.replacen("owner_role = \"account_lead\"", "owner_role = \"boss\"", 1),
            &["sales_handoff", "boss", "owner_role"],
        ),
        (
            "target above limit",
            original.replacen("target = 0.5, limit = 1 }", "target = 2, limit = 1 }", 1),
            &["incident_response", "target (2) must not exceed limit (1)"],
        ),
        (
            "unknown field",
            original.replacen(
                "trigger = \"week_ended\"",
                "trigger = \"week_ended\"\npriority = \"high\"",
                1,
            ),
            &["priority", "line "],
        ),
        (
            "two problems",
            original
                .replacen("unit = \"business_days\"", "unit = \"weeks\"", 1)
                .replacen("owner_role = \"analyst\"", "owner_role = \"intern\"", 1),
            &[
                "content_intake",
                "weekly_performance",
                "intern",
                "2 problems",
            ],
        ),
        ("not TOML", format!("{original}\n[[sop]\n"), &["line "]),
    ];
    for (what, content, expect) in cases {
        assert_ne!(content, original, "{what}: the edit did not apply");
        let file = write(dir.path(), "bad.toml", &valid_edit(&content));
        for dry in [false, true] {
            let mut cmd = baton(dir.path());
            cmd.args(["sop", "import", "--reason", "bad"]).arg(&file);
            if dry {
                cmd.arg("--dry-run");
            }
            let err = fails(&mut cmd);
            for e in expect {
                assert!(err.contains(e), "{what}: {e:?} not in:\n{err}");
            }
            assert!(err.contains("nothing imported"), "{what}:\n{err}");
        }
        assert_eq!(stored_versions(dir.path()).await, 0, "{what}");
        assert_eq!(export(dir.path(), "northwind-social"), before, "{what}");
    }

    // A file that does not exist, an empty reason.
    let err = fails(baton(dir.path()).args(["sop", "import", "missing.toml"]));
    assert!(err.contains("missing.toml"), "{err}");
    let file = write(dir.path(), "good.toml", &original);
    let err = fails(
        baton(dir.path())
            .args(["sop", "import", "--reason", "  "])
            .arg(&file),
    );
    assert!(err.contains("reason"), "{err}");
    assert_eq!(stored_versions(dir.path()).await, 0);
}

#[test]
fn several_agencies_need_agency() {
    let dir = TempDir::new("sop-agency");
    create_agency(dir.path(), "Northwind Social", "a@northwind.test");
    create_agency(dir.path(), "Harbor Creative", "h@harbor.test");
    let err = fails(baton(dir.path()).args(["sop", "export"]));
    assert!(
        err.contains("--agency")
            && err.contains("northwind-social")
            && err.contains("harbor-creative"),
        "{err}"
    );
    let err = fails(baton(dir.path()).args(["sop", "export", "--agency", "nope"]));
    assert!(err.contains("nope"), "{err}");
    let harbor = ok(baton(dir.path()).args(["sop", "export", "--agency", "harbor-creative"]));
    assert!(harbor.contains("Harbor Creative"), "{harbor}");
    // One agency's library loads into another.
    let file = write(dir.path(), "harbor.toml", &harbor);
    let out = ok(baton(dir.path())
        .args(["sop", "import", "--agency", "northwind-social"])
        .arg(&file));
    assert!(out.contains("9 unchanged"), "{out}");
}
