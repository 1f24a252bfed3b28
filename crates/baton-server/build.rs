//! Marks builds whose tests run against PostgreSQL, so the plain test command
//! can say (as an ignored test) that the PostgreSQL suite did not run.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(baton_pg)");
    println!("cargo:rerun-if-env-changed=BATON_TEST_POSTGRES_URL");
    if std::env::var("BATON_TEST_POSTGRES_URL").is_ok_and(|v| !v.trim().is_empty()) {
        println!("cargo:rustc-cfg=baton_pg");
    }
}
