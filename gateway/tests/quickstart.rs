//! The README's quick start, as `scripts/quickstart` runs it: the real
//! binary serves `examples/quickstart/` (the embedded index, the
//! all-MiniLM-L6-v2 model run in process, a mock chat model served by the
//! gateway itself); a question misses, its paraphrase is a semantic hit with
//! the same answer, another question misses. Only on free ports instead of
//! 8080/9090, with the model where `scripts/fetch-model` puts it.

#![cfg(feature = "local-embeddings")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::path::Path;
use std::process::Command;

use serve_support::{Sluice, free_port, get, send, temp_dir};

fn chat(content: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "mock",
        "messages": [{ "role": "user", "content": content }],
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_start_answers_a_paraphrase_from_the_cache() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(root.join("scripts/fetch-model"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let model = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    let dir = temp_dir("quickstart");
    let example = root.join("examples/quickstart");
    for f in ["hello.xml", "llm.xml", "mock-llm.xml"] {
        std::fs::copy(example.join(f), dir.join(f)).unwrap();
    }
    let (port, admin) = (free_port(), free_port());
    let config = std::fs::read_to_string(example.join("sluice.toml")).unwrap();
    let model_line = config
        .lines()
        .find(|l| l.starts_with("local-model"))
        .unwrap()
        .to_owned();
    let config = config
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
        .replace("127.0.0.1:9090", &format!("127.0.0.1:{admin}"))
        .replace(&model_line, &format!("local-model = {model:?}"));
    std::fs::write(dir.join("sluice.toml"), config).unwrap();
    let sluice = Sluice::start(&dir, port, admin).await;

    let ask = |content: &'static str| {
        let url = sluice.url("/llm/v1/chat/completions");
        async move {
            let r = send(
                "POST",
                &url,
                &[("Content-Type", "application/json")],
                &chat(content),
                false,
            )
            .await
            .unwrap();
            assert_eq!(r.status, 200, "{}", r.text());
            let status = r.header("x-sluice-cache").unwrap_or_default().to_owned();
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            (status, body["id"].as_str().unwrap_or_default().to_owned())
        }
    };
    let (status, first) = ask("What is the capital of France?").await;
    assert_eq!(status, "miss", "{}", sluice.log_text());
    let (status, again) = ask("Which city is France's capital?").await;
    assert!(
        status.starts_with("hit; layer=semantic; distance=0.0"),
        "{status}"
    );
    assert_eq!(again, first, "the cached answer");
    let (status, other) = ask("What is the capital of Germany?").await;
    assert!(status.starts_with("miss; distance=0.3"), "{status}");
    assert_ne!(other, first);

    // The cache's counts, by API.
    let metrics = get(&sluice.admin_url("/metrics")).await.unwrap().text();
    for line in [
        r#"sluice_semantic_cache_hits_total{api="llm",layer="semantic"} 1"#,
        r#"sluice_semantic_cache_misses_total{api="llm"} 2"#,
        r#"sluice_semantic_cache_breaker_open{backend="minilm",dependency="embeddings"} 0"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
}
