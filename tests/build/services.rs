//! Build script of the packages whose tests need database servers (`squared-tests` and
//! `squared-server`): it turns each service's URL variable into a cfg, so that a test that
//! needs a service not configured here is compiled `#[ignore]`d, and the test runner reports
//! it as ignored rather than as passed. Cargo runs this again whenever a variable changes.

fn main() {
    for (variable, cfg) in
        [("SQUARED_TEST_POSTGRES_URL", "squared_test_postgres"), ("SQUARED_TEST_MARIADB_URL", "squared_test_mariadb")]
    {
        println!("cargo::rerun-if-env-changed={variable}");
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if std::env::var_os(variable).is_some_and(|value| !value.is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
