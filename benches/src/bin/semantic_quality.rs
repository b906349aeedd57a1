//! The semantic cache's quality benchmark: how often the local embeddings
//! model (feature `local-embeddings`) puts true paraphrases within a distance
//! threshold, and how often it wrongly does so for near-miss questions.
//!
//! ```text
//! semantic_quality [--model DIR] [--eval DIR]
//! ```
//!
//! `--model` defaults to `$SLUICE_MODEL_DIR`, else what `scripts/fetch-model`
//! prints; `--eval` to `<repo>/../shared/eval` (format in its README.md).
//! Every distinct text of both data sets is embedded once; a pair hits at
//! threshold t when its cosine distance (1 − cosine similarity, as
//! `score-threshold`) is ≤ t. Prints, as markdown, the embedding throughput
//! and, per threshold, the hit rate on GPTCache's paraphrases, the hit rate on
//! QQP's duplicates, the wrong-hit rate on QQP's non-duplicates and the
//! precision on QQP. `benches/quality.sh` builds and runs it.

use std::collections::HashMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sluice_policies::semantic::local::LocalModel;

type Fallible<T> = Result<T, Box<dyn Error>>;

/// Texts handed to `embed` at once (it batches further inside).
const CHUNK: usize = 512;
/// Texts embedded one at a time to measure the per-request latency.
const LATENCY_SAMPLES: usize = 200;

/// A pair of texts, as indices into the distinct texts.
struct Pair {
    a: usize,
    b: usize,
}

/// The distinct texts and the pairs of both data sets.
#[derive(Default)]
struct Eval {
    texts: Vec<String>,
    index: HashMap<String, usize>,
    paraphrases: Vec<Pair>,
    duplicates: Vec<Pair>,
    non_duplicates: Vec<Pair>,
}

impl Eval {
    fn load(dir: &Path) -> Fallible<Eval> {
        let mut eval = Eval::default();

        let path = dir.join("gptcache-paraphrases.json");
        let doc: serde_json::Value = serde_json::from_str(&read(&path)?)?;
        for pair in doc
            .as_array()
            .ok_or("gptcache-paraphrases.json: not an array")?
        {
            let pair = eval.pair(pair, "origin", "similar")?;
            eval.paraphrases.push(pair);
        }

        let path = dir.join("qqp-pairs-dev.jsonl");
        for line in read(&path)?.lines().filter(|l| !l.trim().is_empty()) {
            let doc: serde_json::Value = serde_json::from_str(line)?;
            let pair = eval.pair(&doc, "a", "b")?;
            match doc["duplicate"].as_bool() {
                Some(true) => eval.duplicates.push(pair),
                Some(false) => eval.non_duplicates.push(pair),
                None => return Err(format!("qqp-pairs-dev.jsonl: no `duplicate` in {line}").into()),
            }
        }
        Ok(eval)
    }

    fn pair(&mut self, doc: &serde_json::Value, a: &str, b: &str) -> Fallible<Pair> {
        Ok(Pair {
            a: self.intern(doc, a)?,
            b: self.intern(doc, b)?,
        })
    }

    fn intern(&mut self, doc: &serde_json::Value, key: &str) -> Fallible<usize> {
        let text = doc[key]
            .as_str()
            .ok_or_else(|| format!("no string `{key}` in {doc}"))?;
        if let Some(&i) = self.index.get(text) {
            return Ok(i);
        }
        self.texts.push(text.to_owned());
        self.index.insert(text.to_owned(), self.texts.len() - 1);
        Ok(self.texts.len() - 1)
    }
}

fn read(path: &Path) -> Fallible<String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()).into())
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn model_dir(arg: Option<PathBuf>) -> Fallible<PathBuf> {
    if let Some(dir) = arg.or_else(|| std::env::var_os("SLUICE_MODEL_DIR").map(PathBuf::from)) {
        return Ok(dir);
    }
    let script = repo().join("scripts/fetch-model");
    let out = Command::new(&script).output()?;
    if !out.status.success() {
        return Err(format!(
            "{} failed:\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let stdout = String::from_utf8(out.stdout)?;
    let dir = stdout
        .lines()
        .last()
        .ok_or("scripts/fetch-model printed nothing")?;
    Ok(PathBuf::from(dir.trim()))
}

fn cosine_distance(a: &[f32], b: &[f32]) -> f32 {
    // The vectors are unit length.
    1.0 - a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>()
}

fn distances(pairs: &[Pair], vectors: &[Vec<f32>]) -> Vec<f32> {
    pairs
        .iter()
        .map(|p| cosine_distance(&vectors[p.a], &vectors[p.b]))
        .collect()
}

fn hits(distances: &[f32], threshold: f32) -> usize {
    distances.iter().filter(|&&d| d <= threshold).count()
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        "–".to_owned()
    } else {
        format!("{:.1} %", 100.0 * part as f64 / whole as f64)
    }
}

fn main() -> Fallible<()> {
    let mut model_arg = None;
    let mut eval_dir = repo().join("../shared/eval");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--model" => model_arg = Some(PathBuf::from(args.next().ok_or("--model DIR")?)),
            "--eval" => eval_dir = PathBuf::from(args.next().ok_or("--eval DIR")?),
            _ => {
                return Err(format!(
                    "unknown argument `{arg}`; usage: semantic_quality [--model DIR] [--eval DIR]"
                )
                .into());
            }
        }
    }

    let eval = Eval::load(&eval_dir)?;
    let dir = model_dir(model_arg)?;
    let started = Instant::now();
    let model = LocalModel::load(&dir)?;
    let load_secs = started.elapsed().as_secs_f64();

    // Longest first over the whole set, so `embed`'s batches pad little.
    let mut order: Vec<usize> = (0..eval.texts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(eval.texts[i].len()));
    let mut vectors = vec![Vec::new(); eval.texts.len()];
    let started = Instant::now();
    for (n, chunk) in order.chunks(CHUNK).enumerate() {
        let texts: Vec<&str> = chunk.iter().map(|&i| eval.texts[i].as_str()).collect();
        for (&i, vector) in chunk.iter().zip(model.embed(&texts)?) {
            vectors[i] = vector;
        }
        eprint!(
            "\rembedded {} / {}",
            (n * CHUNK + chunk.len()),
            eval.texts.len()
        );
    }
    eprintln!();
    let embed_secs = started.elapsed().as_secs_f64();

    // One text per call, as a gateway embeds one prompt per request.
    let mut latencies: Vec<f64> = Vec::with_capacity(LATENCY_SAMPLES);
    for i in 0..LATENCY_SAMPLES.min(eval.texts.len()) {
        let text = eval.texts[i * eval.texts.len() / LATENCY_SAMPLES].as_str();
        let started = Instant::now();
        model.embed(&[text])?;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(i).copied().unwrap_or(f64::NAN)
    };

    let paraphrases = distances(&eval.paraphrases, &vectors);
    let duplicates = distances(&eval.duplicates, &vectors);
    let non_duplicates = distances(&eval.non_duplicates, &vectors);

    println!("## Semantic cache quality: {}", dir.display());
    println!();
    println!(
        "{} distinct texts embedded in {embed_secs:.1} s: **{:.0} sentences/s** in batches \
         (model loaded in {load_secs:.2} s); one text per call: p50 {:.1} ms, p99 {:.1} ms \
         over {} texts.",
        eval.texts.len(),
        eval.texts.len() as f64 / embed_secs,
        quantile(0.5),
        quantile(0.99),
        latencies.len(),
    );
    println!();
    println!(
        "Pairs: {} GPTCache paraphrases, {} QQP duplicates, {} QQP non-duplicates. \
         A pair hits when its cosine distance ≤ t.",
        paraphrases.len(),
        duplicates.len(),
        non_duplicates.len()
    );
    println!();
    println!(
        "| t | GPTCache paraphrase hit rate | QQP duplicate hit rate | QQP non-duplicate wrong-hit rate | QQP precision |"
    );
    println!("|---|---|---|---|---|");
    for step in 1..=15 {
        let t = 0.02 * step as f32;
        let true_hits = hits(&duplicates, t);
        let wrong_hits = hits(&non_duplicates, t);
        println!(
            "| {t:.2} | {} | {} | {} | {} |",
            percent(hits(&paraphrases, t), paraphrases.len()),
            percent(true_hits, duplicates.len()),
            percent(wrong_hits, non_duplicates.len()),
            percent(true_hits, true_hits + wrong_hits),
        );
    }
    Ok(())
}
