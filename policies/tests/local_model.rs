//! The local embeddings backend (`semantic::local`) against vectors computed
//! by sentence-transformers itself (`scripts/reference-vectors.py` wrote
//! `data/minilm-reference.json`). The model comes from `SLUICE_MODEL_DIR`, or
//! from `scripts/fetch-model` (which installs it on first use).
#![cfg(feature = "local-embeddings")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use sluice_policies::semantic::local::LocalModel;

/// Each vector must point where sentence-transformers' does.
const MIN_COSINE: f32 = 0.99;
/// The published similarities, from our vectors.
const PUBLISHED_TOLERANCE: f32 = 0.005;

struct Reference {
    sentences: Vec<String>,
    vectors: Vec<Vec<f32>>,
    published: Vec<(String, String, f32)>,
}

fn reference() -> Reference {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/minilm-reference.json");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let strings = |v: &serde_json::Value| v.as_str().unwrap().to_owned();
    let floats = |v: &serde_json::Value| -> Vec<f32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect()
    };
    Reference {
        sentences: doc["sentences"]
            .as_array()
            .unwrap()
            .iter()
            .map(strings)
            .collect(),
        vectors: doc["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(floats)
            .collect(),
        published: doc["published"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    strings(&p["a"]),
                    strings(&p["b"]),
                    p["similarity"].as_f64().unwrap() as f32,
                )
            })
            .collect(),
    }
}

fn model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SLUICE_MODEL_DIR") {
        return PathBuf::from(dir);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/fetch-model");
    let out = Command::new(&script)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    PathBuf::from(stdout.lines().last().unwrap().trim())
}

fn model() -> &'static LocalModel {
    static MODEL: OnceLock<LocalModel> = OnceLock::new();
    MODEL.get_or_init(|| LocalModel::load(&model_dir()).unwrap())
}

/// A sentence as a failure message shows it.
fn short(sentence: &str) -> String {
    let mut chars = sentence.chars();
    let head: String = chars.by_ref().take(60).collect();
    if chars.next().is_some() {
        format!("{head:?}…")
    } else {
        format!("{head:?}")
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

/// Asserts every vector is 384-d, unit length and close to its reference;
/// returns the worst cosine.
fn check_against_reference(label: &str, got: &[Vec<f32>], reference: &Reference) -> f32 {
    assert_eq!(got.len(), reference.sentences.len());
    let mut worst = f32::INFINITY;
    for ((sentence, want), got) in reference.sentences.iter().zip(&reference.vectors).zip(got) {
        let sentence = short(sentence);
        assert_eq!(got.len(), 384, "{sentence}");
        let norm = got.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{sentence}: norm {norm}");
        let c = cosine(got, want);
        assert!(
            c >= MIN_COSINE,
            "{label}: {sentence} has cosine {c} with the reference"
        );
        worst = worst.min(c);
    }
    println!("{label}: worst cosine with the reference {worst:.7}");
    worst
}

#[test]
fn one_batch_matches_sentence_transformers() {
    let reference = reference();
    let texts: Vec<&str> = reference.sentences.iter().map(String::as_str).collect();
    let got = model().embed(&texts).unwrap();
    check_against_reference("one batch", &got, &reference);
}

#[test]
fn one_by_one_matches_sentence_transformers() {
    let reference = reference();
    let got: Vec<Vec<f32>> = reference
        .sentences
        .iter()
        .map(|s| model().embed(&[s.as_str()]).unwrap().remove(0))
        .collect();
    check_against_reference("one by one", &got, &reference);
}

#[test]
fn batching_does_not_change_vectors() {
    // Padding in a batch of mixed lengths must be invisible: same vectors
    // as alone, to float rounding.
    let reference = reference();
    let texts: Vec<&str> = reference.sentences.iter().map(String::as_str).collect();
    let batch = model().embed(&texts).unwrap();
    for (text, batched) in texts.iter().zip(&batch) {
        let alone = model().embed(&[text]).unwrap().remove(0);
        let c = cosine(&alone, batched);
        assert!(c > 0.99999, "{}: alone vs in a batch {c}", short(text));
    }
}

#[test]
fn published_similarities_are_reproduced() {
    let reference = reference();
    assert_eq!(reference.published.len(), 4);
    for (a, b, published) in &reference.published {
        let v = model().embed(&[a, b]).unwrap();
        let got = cosine(&v[0], &v[1]);
        println!("{got:+.4} (published {published:+.4}) {a:?} / {b:?}");
        assert!(
            (got - published).abs() <= PUBLISHED_TOLERANCE,
            "{a:?} / {b:?}: {got}, published {published}"
        );
    }
}

#[test]
fn unrelated_sentences_are_not_close() {
    // What pooling over pad tokens gets wrong: unrelated sentences at ≈ 0.8.
    let v = model()
        .embed(&["The cat sits outside", "Explain TCP congestion control"])
        .unwrap();
    assert!(cosine(&v[0], &v[1]) < 0.3);
}

#[test]
fn reports_its_shape_and_embeds_nothing() {
    assert_eq!(model().dimension(), 384);
    assert_eq!(model().max_tokens(), 256);
    assert!(model().embed(&[]).unwrap().is_empty());
    assert_eq!(model().embed(&[""]).unwrap()[0].len(), 384);
}

#[test]
fn the_cache_is_given_no_vector_for_a_prompt_the_model_would_cut() {
    use sluice_policies::semantic::{EmbedError, Embedder};
    let m = model();
    // About 55 word pieces: with a question they fit the 256 the model
    // reads; six times as many do not.
    let filler = "The quick brown fox jumps over the lazy dog. ".repeat(5);
    let fits = format!("{filler}What is the capital of France?");
    let whole = m.embed_prompt(&fits).unwrap();
    assert_eq!(
        whole,
        m.embed(&[fits.as_str()]).unwrap()[0],
        "the same vector as embed"
    );
    let long = |question: &str| format!("{}{question}", filler.repeat(6));
    for question in [
        "What is the capital of France?",
        "How many legs does a spider have?",
    ] {
        assert_eq!(
            m.embed_prompt(&long(question)),
            Err(EmbedError::TooLong { max_tokens: 256 })
        );
    }
    // What the cache must not do: sentence-transformers cuts both to one vector.
    let cut = m
        .embed(&[
            &long("What is the capital of France?"),
            &long("How many legs does a spider have?"),
        ])
        .unwrap();
    assert!(cosine(&cut[0], &cut[1]) > 0.9999);
}

#[test]
fn load_errors_name_the_file() {
    let source = model_dir();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("local-model-load-errors");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let err = |dir: &Path| LocalModel::load(dir).unwrap_err();

    let e = err(&dir);
    assert!(e.contains("missing") && e.contains("config.json"), "{e}");

    std::fs::write(dir.join("config.json"), "{ not json").unwrap();
    let e = err(&dir);
    assert!(
        e.contains("config.json") && e.contains("not a BERT config"),
        "{e}"
    );

    std::fs::copy(source.join("config.json"), dir.join("config.json")).unwrap();
    let e = err(&dir);
    assert!(e.contains("missing") && e.contains("tokenizer.json"), "{e}");

    std::fs::copy(source.join("tokenizer.json"), dir.join("tokenizer.json")).unwrap();
    let e = err(&dir);
    assert!(
        e.contains("missing") && e.contains("model.safetensors"),
        "{e}"
    );

    std::fs::write(dir.join("model.safetensors"), b"truncated").unwrap();
    let e = err(&dir);
    assert!(e.contains("model.safetensors"), "{e}");

    std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
    std::fs::write(
        dir.join("1_Pooling/config.json"),
        r#"{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}"#,
    )
    .unwrap();
    let e = err(&dir);
    assert!(e.contains("1_Pooling") && e.contains("mean pooling"), "{e}");

    let _ = std::fs::remove_dir_all(&dir);
}
