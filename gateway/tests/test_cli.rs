//! `sluice test` as a user runs it: the real binary on case files written
//! to a temporary folder; a wrong expectation fails with a readable diff and
//! exit status 1, a malformed case file exits 2.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails loudly"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CASE: &str = r#"
title = "set-header override replaces the header"
source = "set-header-policy"

[[api]]
name = "echo"
path = "echo"
service-url = "http://backend.test/api"
policy = '''<policies><inbound><base /><set-header name="X-Test" exists-action="override"><value>20</value></set-header></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>'''

[[step]]
request.path = "/echo/x"
request.headers = { "X-Test" = "10" }
expect.status = STATUS
expect.backend-request.headers = { "X-Test" = "VALUE" }
"#;

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sluice-test-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).unwrap();
}

fn sluice_test(args: &[&str]) -> (i32, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("test")
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn a_passing_case_exits_0() {
    let dir = folder("pass");
    write(
        &dir,
        "ok.toml",
        &CASE.replace("STATUS", "200").replace("VALUE", "20"),
    );
    let (code, out) = sluice_test(&[dir.to_str().unwrap()]);
    assert_eq!((code, out.trim()), (0, "1 passed, 0 failed"), "{out}");
}

#[test]
fn a_wrong_expectation_exits_1_with_a_diff() {
    let dir = folder("wrong");
    write(
        &dir,
        "ok.toml",
        &CASE.replace("STATUS", "200").replace("VALUE", "20"),
    );
    // Wrong on purpose: set-header override sends 20, not 10; the status is 200.
    write(
        &dir,
        "wrong.toml",
        &CASE.replace("STATUS", "201").replace("VALUE", "10"),
    );
    let (code, out) = sluice_test(&[dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    let wrong = dir.join("wrong.toml").display().to_string();
    assert!(
        out.contains(&format!(
            "FAIL  {wrong} (step 1): set-header override replaces the header"
        )),
        "{out}"
    );
    assert!(out.contains("status: expected 201, got 200 OK"), "{out}");
    assert!(
        out.contains("backend-request header `X-Test`: expected `10`, got `20`"),
        "{out}"
    );
    assert!(
        !out.contains("ok.toml"),
        "passing cases print nothing: {out}"
    );
    assert!(out.trim_end().ends_with("1 passed, 1 failed"), "{out}");
}

#[test]
fn a_malformed_case_exits_2() {
    let dir = folder("malformed");
    write(
        &dir,
        "ok.toml",
        &CASE.replace("STATUS", "200").replace("VALUE", "20"),
    );
    write(&dir, "broken.toml", "title = \"x\"\n[[step]\n");
    write(&dir, "unknown.toml", "title = \"x\"\nnot-a-key = 1\n");
    let (code, out) = sluice_test(&[dir.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    let broken = dir.join("broken.toml").display().to_string();
    assert!(
        out.contains(&format!("ERROR {broken}: not a valid case")),
        "{out}"
    );
    assert!(
        out.contains(&format!("{broken}:2:")),
        "the error has its line: {out}"
    );
    assert!(out.contains("unknown field `not-a-key`"), "{out}");
    assert!(out.trim_end().ends_with("1 passed, 2 failed"), "{out}");
}

#[test]
fn filter_skip_and_verbose() {
    let dir = folder("filter");
    write(
        &dir,
        "one.toml",
        &CASE.replace("STATUS", "200").replace("VALUE", "20"),
    );
    write(
        &dir,
        "two.toml",
        &CASE.replace("STATUS", "500").replace("VALUE", "20"),
    );
    write(
        &dir,
        "three.toml",
        &format!(
            "skip = \"not yet\"\n{}",
            CASE.replace("STATUS", "500").replace("VALUE", "20")
        ),
    );
    let d = dir.to_str().unwrap();
    let (code, out) = sluice_test(&["--filter", "one", d]);
    assert_eq!((code, out.trim()), (0, "1 passed, 0 failed"), "{out}");
    let (code, out) = sluice_test(&["--filter", "three", "--verbose", d]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("skip") && out.contains("not yet"), "{out}");
    assert!(
        out.trim_end().ends_with("0 passed, 0 failed, 1 skipped"),
        "{out}"
    );
    let (_, out) = sluice_test(&["--verbose", "--filter", "one", d]);
    assert!(
        out.contains("step 1: GET /echo/x -> 200 OK (backend 1, stub 0, embeddings 0)"),
        "{out}"
    );
}

#[test]
fn load_errors_name_the_scope_line_and_column() {
    let dir = folder("load");
    write(
        &dir,
        "refused.toml",
        r#"
title = "an unknown policy is refused"
[[api]]
name = "echo"
path = "echo"
policy = '''<policies>
  <inbound><set-heder name="x" /></inbound>
</policies>'''
[expect]
load-error = ["api:echo:2:13", "set-heder", "set-header"]
"#,
    );
    let (code, out) = sluice_test(&[dir.to_str().unwrap()]);
    assert_eq!((code, out.trim()), (0, "1 passed, 0 failed"), "{out}");
}
