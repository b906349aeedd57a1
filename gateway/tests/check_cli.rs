//! `sluice check` as a user runs it: the real binary on the shared corpus and
//! on small documents written here.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails loudly"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sluice(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The whole corpus: no syntax error but the one genuinely garbled file, and
/// every remaining error is listed (and reviewed) in the snapshot.
#[test]
fn corpus() {
    let out = sluice(&["check", "--json", "../shared/corpus"], &workspace());
    let diags = json_lines(&out);
    let summary = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    let files: u64 = summary.split(' ').next().unwrap().parse().unwrap();
    assert!(files >= 170, "{summary}");
    let syntax: Vec<_> = diags
        .iter()
        .filter(|d| d["code"].as_str().unwrap().starts_with("E01"))
        .collect();
    assert_eq!(syntax.len(), 1, "{syntax:#?}");
    assert!(
        syntax[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("Call out to an HTTP endpoint and cache the response.policy.xml")
    );
    let mut errors: Vec<String> = diags
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| {
            let file = d["file"]
                .as_str()
                .unwrap()
                .trim_start_matches("../shared/corpus/");
            format!(
                "{} {}:{}:{} {}",
                d["code"].as_str().unwrap(),
                file,
                d["line"],
                d["column"],
                d["message"].as_str().unwrap()
            )
        })
        .collect();
    errors.sort();
    insta::assert_snapshot!("corpus_errors", errors.join("\n"));
    // Every valid policy of the corpus is executed by `run` (corpus_serves.rs serves them).
    let not_executed: Vec<_> = diags.iter().filter(|d| d["code"] == "W0501").collect();
    assert!(not_executed.is_empty(), "{not_executed:#?}");
    let warnings = diags.iter().filter(|d| d["severity"] == "warning").count() as u64;
    assert_eq!(
        summary,
        format!(
            "{files} files, {} errors, {warnings} warnings",
            errors.len()
        )
    );
    assert_eq!(out.status.code(), Some(1), "errors make the exit status 1");
    // The README states these figures; keep it true.
    let files: std::collections::BTreeSet<&str> = diags
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let claim = format!(
        "**{} errors in {} files (one of them a syntax error) and {} warnings**",
        errors.len(),
        files.len(),
        warnings
    );
    assert!(readme.contains(&claim), "README.md should say {claim}");
}

#[test]
fn readme_lists_every_policy() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    for p in sluice_engine::schema::catalog() {
        let run = if sluice_policies::is_executable(p.name) {
            "yes"
        } else {
            "not yet"
        };
        let row = format!("| `{}` |", p.name);
        let line = readme.lines().find(|l| l.starts_with(&row));
        let line = line.unwrap_or_else(|| panic!("README.md's policy table lacks `{}`", p.name));
        assert!(
            line.ends_with(&format!("| {run} |")),
            "README.md says otherwise for `{}`: {line}",
            p.name
        );
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sluice-check-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn clean_file_exits_zero_with_summary() {
    let dir = temp_dir("clean");
    std::fs::write(
        dir.join("ok.xml"),
        r#"<policies><inbound><base/><set-header name="x" exists-action="override"><value>@(context.RequestId.ToString())</value></set-header><validate-odata-request /></inbound></policies>"#,
    )
    .unwrap();
    let out = sluice(&["check", "ok.xml"], &dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    // Not executed yet by `run`: a warning naming the policy, not an error.
    assert!(
        stdout.contains("warning[W0501]: `validate-odata-request`"),
        "{stdout}"
    );
    assert!(
        stdout.trim_end().ends_with("1 files, 0 errors, 1 warnings"),
        "{stdout}"
    );
}

#[test]
fn errors_are_rendered_like_rustc_and_exit_one() {
    let dir = temp_dir("broken");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(
        dir.join("sub/bad.xml"),
        "<policies>\n  <inbound>\n    <set-header nme=\"x\"/>\n  </inbound>\n</policies>\n",
    )
    .unwrap();
    let out = sluice(&["check", "."], &dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    let expected = "error[E0305]: unknown attribute `nme` on `<set-header>`\n --> ./sub/bad.xml:3:17\n  |\n3 |     <set-header nme=\"x\"/>\n  |                 ^^^\n  |\n  = help: did you mean `name`?\n";
    assert!(stdout.contains(expected), "{stdout}");
    assert!(
        stdout.contains("error[E0306]: `<set-header>` is missing the required attribute `name`"),
        "{stdout}"
    );
    assert!(
        stdout.trim_end().ends_with("1 files, 2 errors, 0 warnings"),
        "{stdout}"
    );
}

#[test]
fn json_output_and_named_values() {
    let dir = temp_dir("json");
    std::fs::write(
        dir.join("p.xml"),
        "<policies>\n<backend>\n<forward-request timeout=\"{{t}}\" />\n<forward-request timeout=\"{{u}}\" />\n</backend>\n</policies>",
    )
    .unwrap();
    // Without values: a note, nothing type-checked, exit 0.
    let out = sluice(&["check", "--json", "p.xml"], &dir);
    let lines = json_lines(&out);
    let notes: Vec<_> = lines.iter().filter(|l| l["code"] == "N0402").collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["message"], "named values left in place: `t`, `u`");
    assert_eq!(out.status.code(), Some(0));
    // With a value: substituted and checked; the missing one is an error.
    let out = sluice(
        &["check", "--json", "--named-value", "t=soon", "p.xml"],
        &dir,
    );
    let lines = json_lines(&out);
    let errors: Vec<(String, u64, u64)> = lines
        .iter()
        .filter(|l| l["severity"] == "error")
        .map(|l| {
            (
                l["code"].as_str().unwrap().to_owned(),
                l["line"].as_u64().unwrap(),
                l["column"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [("E0307".to_owned(), 3, 27), ("E0401".to_owned(), 4, 27)]
    );
    for l in &lines {
        for key in ["file", "line", "column", "severity", "code", "message"] {
            assert!(l.get(key).is_some(), "{l} lacks {key}");
        }
    }
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "1 files, 2 errors, 0 warnings"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn fragments_in_the_checked_files_are_expanded() {
    let dir = temp_dir("frag");
    std::fs::write(
        dir.join("lib__auth.xml"),
        "<fragment>\n  <forward-request />\n</fragment>",
    )
    .unwrap();
    std::fs::write(
        dir.join("api.xml"),
        r#"<policies><inbound><include-fragment fragment-id="auth" /></inbound></policies>"#,
    )
    .unwrap();
    let out = sluice(&["check", "--json", "."], &dir);
    let lines = json_lines(&out);
    let e: Vec<_> = lines.iter().filter(|l| l["code"] == "E0302").collect();
    assert_eq!(e.len(), 1, "{lines:#?}");
    assert_eq!(e[0]["file"], "./lib__auth.xml");
    assert_eq!(e[0]["line"], 2);
}

#[test]
fn scope_option_checks_scopes() {
    let dir = temp_dir("scope");
    std::fs::write(
        dir.join("p.xml"),
        r#"<policies><inbound><quota calls="1" renewal-period="60" /></inbound></policies>"#,
    )
    .unwrap();
    assert_eq!(
        sluice(&["check", "p.xml", "--scope", "product"], &dir)
            .status
            .code(),
        Some(0)
    );
    let out = sluice(&["check", "p.xml", "--scope", "api"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("error[E0303]: `quota` is not allowed at api scope")
    );
}

/// `sluice check sluice.toml` in `dir`: its standard output, once the exit
/// status was `code`.
fn check_config(dir: &Path, code: i32) -> String {
    let out = sluice(&["check", "sluice.toml"], dir);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(code), "{stdout}");
    stdout
}

/// A gateway configuration is checked as `sluice run` loads it: what only
/// compiling its plan finds (a backend id nobody defines) is an error here
/// too, and a policy file two APIs share reports its problems once.
#[test]
fn a_configuration_is_checked_as_run_would_load_it() {
    let dir = temp_dir("config");
    std::fs::write(
        dir.join("sluice.toml"),
        r#"[backends.minilm]
url = "http://127.0.0.1:9/v1/embeddings"

[[api]]
name = "one"
path = "one"
service-url = "http://127.0.0.1:9"
policy-file = "llm.xml"

[[api]]
name = "two"
path = "two"
service-url = "http://127.0.0.1:9"
policy-file = "llm.xml"
"#,
    )
    .unwrap();
    let llm = |backend: &str, threshold: &str| {
        format!(
            "<policies>\n  <inbound>\n    <base />\n    <llm-semantic-cache-lookup score-threshold=\"{threshold}\" embeddings-backend-id=\"{backend}\" embeddings-backend-auth=\"system-assigned\" />\n  </inbound>\n  <backend><base /></backend>\n  <outbound><base /></outbound>\n</policies>\n"
        )
    };
    std::fs::write(dir.join("llm.xml"), llm("minilm", "0.1")).unwrap();
    check_config(&dir, 0);

    std::fs::write(dir.join("llm.xml"), llm("minlm", "0.1")).unwrap();
    let stdout = check_config(&dir, 1);
    assert!(
        stdout.contains("error[E0702]: no backend `minlm` (embeddings-backend-id)"),
        "{stdout}"
    );
    assert!(stdout.contains("llm.xml:4:77"), "{stdout}");
    assert!(stdout.contains("did you mean `minilm`?"), "{stdout}");
    assert_eq!(stdout.matches("error[E0702]").count(), 1, "{stdout}");

    std::fs::write(dir.join("llm.xml"), llm("minilm", "high")).unwrap();
    let stdout = check_config(&dir, 1);
    assert_eq!(stdout.matches("error[E0307]").count(), 1, "{stdout}");
    assert!(stdout.contains("llm.xml:4:49"), "{stdout}");
    assert!(
        stdout.trim_end().ends_with("1 files, 1 errors, 0 warnings"),
        "{stdout}"
    );

    // Warnings of a configuration that loads are reported too.
    let jwt = llm("minilm", "0.1").replace(
        "<base />\n    <llm",
        "<base />\n    <validate-odata-request />\n    <llm",
    );
    std::fs::write(dir.join("llm.xml"), jwt).unwrap();
    let stdout = check_config(&dir, 0);
    assert!(
        stdout.contains("warning[W0501]: `validate-odata-request`"),
        "{stdout}"
    );
    assert!(
        stdout.trim_end().ends_with("1 files, 0 errors, 1 warnings"),
        "{stdout}"
    );

    // With an error the plan finds, the warning stays and is not repeated as an error.
    let both = llm("minlm", "0.1").replace(
        "<base />\n    <llm",
        "<base />\n    <validate-odata-request />\n    <llm",
    );
    std::fs::write(dir.join("llm.xml"), both).unwrap();
    let stdout = check_config(&dir, 1);
    assert!(
        stdout.contains("warning[W0501]: `validate-odata-request`"),
        "{stdout}"
    );
    assert!(
        stdout.trim_end().ends_with("1 files, 1 errors, 1 warnings"),
        "{stdout}"
    );
}

/// A configuration with the secrets `SECRET-7f3a` and `SECRET-mode` (named
/// values marked `secret = true`) used where a policy checks them
/// literally (in an address, or in an attribute if `enum_too`), plus `extra`.
fn secret_config(extra: &str, enum_too: bool) -> String {
    let mode = if enum_too { "{{mode}}" } else { "override" };
    format!(
        r#"[named-values]
allowed = {{ value = "SECRET-7f3a", secret = true }}
mode = {{ value = "SECRET-mode", secret = true }}
{extra}
[[api]]
name = "one"
path = "one"
service-url = "http://127.0.0.1:9"
policy = '''<policies>
  <inbound>
    <ip-filter action="allow"><address>{{{{allowed}}}}</address></ip-filter>
    <set-header name="x" exists-action="{mode}"><value>1</value></set-header>
  </inbound>
</policies>'''
"#
    )
}

/// `sluice check` shows no secret, in text or JSON, however a diagnostic
/// comes to quote it: a value checked after substitution, or a syntax
/// error on (or after) the line that holds it literally.
#[test]
fn a_secret_named_value_is_never_shown() {
    let dir = temp_dir("secret");
    let check = |config: &str| {
        std::fs::write(dir.join("sluice.toml"), config).unwrap();
        let text = sluice(&["check", "sluice.toml"], &dir);
        let json = sluice(&["check", "--json", "sluice.toml"], &dir);
        assert_eq!(text.status.code(), Some(1));
        let text = String::from_utf8_lossy(&text.stdout).into_owned();
        let json = String::from_utf8_lossy(&json.stdout).into_owned();
        assert!(!text.contains("SECRET"), "{text}");
        assert!(!json.contains("SECRET"), "{json}");
        (text, json)
    };

    // Substituted into an address, or an enum attribute: the error quotes `***`.
    let (text, json) = check(&secret_config("", false));
    assert!(text.contains("`***` is not an IP address"), "{text}");
    assert!(json.contains("`***` is not an IP address"), "{json}");
    let (text, json) = check(&secret_config("", true));
    assert!(
        text.contains("error[E0307]: `exists-action` must be one of `override`, `skip`, `append`, `delete`, not `***`"),
        "{text}"
    );
    assert!(json.contains("not `***`"), "{json}");

    // A syntax error on the line after a literal secret: that line is shown, not the secret's.
    let (text, _) = check(&secret_config("broken = \n", false));
    assert!(text.contains("error[E0701]"), "{text}");
    assert!(text.contains("--> sluice.toml:4:"), "{text}");

    // On the secret's own line (a quote left out): the line is shown masked.
    let config = secret_config("", false).replace(
        r#"allowed = { value = "SECRET-7f3a", secret = true }"#,
        r#"allowed = { value = SECRET-7f3a, secret = true }"#,
    );
    let (text, _) = check(&config);
    assert!(text.contains("error[E0701]"), "{text}");
    assert!(
        text.contains("2 | allowed = { value = ***********, secret = true }"),
        "{text}"
    );
    let config = secret_config("", false).replace(
        r#"allowed = { value = "SECRET-7f3a", secret = true }"#,
        r#"allowed = { value = "SECRET-7f3a, secret = true }"#,
    );
    let (text, _) = check(&config);
    assert!(text.contains("error[E0701]"), "{text}");
    // (The string runs to the end of the line; the error is on the next.)
    assert!(
        text.contains("3 | mode = { value = \"***********\", secret = true }"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The password of `[semantic-cache] redis-url` is a secret: `sluice check`
/// shows the URL of an error with `***` in its place, and the line with the
/// password masked.
#[test]
fn the_password_of_the_redis_url_is_never_shown() {
    let dir = temp_dir("redis-url");
    // A port that is not one: the store refuses the URL at load.
    std::fs::write(
        dir.join("sluice.toml"),
        "[semantic-cache]\nstore = \"redis\"\nredis-url = \"redis://cache:pw-of-redis-7@r.internal:port/0\"\n",
    )
    .unwrap();
    let stdout = check_config(&dir, 1);
    assert!(
        stdout.contains("invalid url `redis://cache:***@r.internal:port/0`"),
        "{stdout}"
    );
    assert!(!stdout.contains("pw-of-redis-7"), "{stdout}");
    // A syntax error on the line shows the line, its password masked.
    std::fs::write(
        dir.join("sluice.toml"),
        "[semantic-cache]\nredis-url = \"redis://cache:pw-of-redis-7@r.internal:6379/0\" x\n",
    )
    .unwrap();
    let stdout = check_config(&dir, 1);
    assert!(
        stdout.contains("redis://cache:*************@r.internal:6379/0"),
        "{stdout}"
    );
    assert!(!stdout.contains("pw-of-redis-7"), "{stdout}");
}

/// A backend's proxy password is masked on the line a diagnostic shows,
/// given as a literal or read from the environment.
#[test]
fn a_backend_proxy_password_is_never_shown() {
    let dir = temp_dir("proxy-password");
    std::fs::write(
        dir.join("sluice.toml"),
        r#"[backends.east]
url = "https://east.test"
proxy = { url = "https://proxy.test:8080", username = "gw", password = "PROXY-SECRET-1" }
[[api]]
name = "ai"
path = "ai"
service-url = "http://backend.test"
"#,
    )
    .unwrap();
    for args in [
        &["check", "sluice.toml"][..],
        &["check", "--json", "sluice.toml"],
    ] {
        let out = sluice(args, &dir);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(text.contains("is not `http://host:port`"), "{text}");
        assert!(!text.contains("PROXY-SECRET"), "{text}");
    }
}
