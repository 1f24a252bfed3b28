//! Marks builds whose process tests can run, so the plain test command
//! shows the others as ignored with the reason instead of passing them
//! without running: `baton_pg` (BATON_TEST_POSTGRES_URL set: the
//! several-server tests), `baton_s3` (BATON_TEST_S3_ENDPOINT set: the
//! shared-files test) and `baton_browser` (chromedriver installed, or
//! BATON_BROWSER_TESTS / CI set, in which case a missing one fails).
fn main() {
    println!("cargo::rustc-check-cfg=cfg(baton_pg)");
    println!("cargo::rustc-check-cfg=cfg(baton_s3)");
    println!("cargo::rustc-check-cfg=cfg(baton_browser)");
    for var in [
        "BATON_TEST_POSTGRES_URL",
        "BATON_TEST_S3_ENDPOINT",
        "BATON_BROWSER_TESTS",
        "CI",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    // Installing chromium-driver adds the file here.
    println!("cargo:rerun-if-changed=/usr/bin/chromedriver");
    println!("cargo:rerun-if-changed=build.rs");
    let set = |var: &str| std::env::var(var).is_ok_and(|v| !v.trim().is_empty() && v != "0");
    if set("BATON_TEST_POSTGRES_URL") {
        println!("cargo:rustc-cfg=baton_pg");
    }
    if set("BATON_TEST_S3_ENDPOINT") {
        println!("cargo:rustc-cfg=baton_s3");
    }
    if std::path::Path::new("/usr/bin/chromedriver").exists()
        || set("BATON_BROWSER_TESTS")
        || set("CI")
    {
        println!("cargo:rustc-cfg=baton_browser");
    }
}
