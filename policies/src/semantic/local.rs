//! The local embeddings backend (feature `local-embeddings`): a
//! sentence-transformers BERT model (e.g. `all-MiniLM-L6-v2`) run in process
//! on the CPU, from a directory holding `config.json`, `model.safetensors`
//! and `tokenizer.json` (`scripts/fetch-model` installs one).
//!
//! It computes what sentence-transformers computes for such a model:
//! WordPiece tokens truncated to the model's `max_seq_length`, the BERT
//! forward pass, mean pooling over the real tokens only (the attention mask),
//! then L2 normalisation. Padding in `tokenizer.json` is ignored: texts are
//! padded per batch here and the pads are masked out, both in attention and
//! in the pooling (pooling over pads gives plausible but wrong vectors).

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Encoding, Tokenizer, TruncationParams};

/// Texts per forward pass. Texts are sorted by length first, so a batch pads
/// little; 32 is sentence-transformers' default.
const BATCH_SIZE: usize = 32;

/// A sentence-transformers model loaded from a directory; cheap to share
/// (`Send + Sync`), `embed` takes `&self`. Embedding is CPU-bound and
/// synchronous: call it from a blocking thread, not from an async task.
pub struct LocalModel {
    dir: PathBuf,
    tokenizer: Tokenizer,
    bert: BertModel,
    device: Device,
    dimension: usize,
    max_tokens: usize,
    lowercase: bool,
}

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<LocalModel>();
};

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("dir", &self.dir)
            .field("dimension", &self.dimension)
            .field("max_tokens", &self.max_tokens)
            .finish_non_exhaustive()
    }
}

impl LocalModel {
    /// Loads the model in `dir`: `config.json` (BERT), `model.safetensors`,
    /// `tokenizer.json`, and, when present, `sentence_bert_config.json`
    /// (`max_seq_length`, `do_lower_case`) and `1_Pooling/config.json` (which
    /// must ask for mean pooling). Errors name the file at fault. The weights
    /// are read into memory (90 MB for all-MiniLM-L6-v2), not mapped: mapping
    /// is `unsafe` in candle. Takes well under a second; load once, share.
    pub fn load(dir: &Path) -> Result<LocalModel, String> {
        let device = Device::Cpu;

        let config_path = dir.join("config.json");
        let config: Config = serde_json::from_str(&read_text(&config_path)?)
            .map_err(|e| format!("`{}` is not a BERT config: {e}", config_path.display()))?;

        let st = read_sentence_bert_config(dir)?;
        check_pooling(dir)?;
        let max_tokens = st
            .max_seq_length
            .unwrap_or(config.max_position_embeddings)
            .min(config.max_position_embeddings);

        let tokenizer_path = dir.join("tokenizer.json");
        require_file(&tokenizer_path)?;
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| format!("cannot load `{}`: {e}", tokenizer_path.display()))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                ..TruncationParams::default()
            }))
            .map_err(|e| format!("cannot load `{}`: {e}", tokenizer_path.display()))?;

        let weights_path = dir.join("model.safetensors");
        require_file(&weights_path)?;
        let weights = candle_core::safetensors::load(&weights_path, &device)
            .map_err(|e| format!("cannot read `{}`: {e}", weights_path.display()))?;
        let vb = VarBuilder::from_tensors(weights, DType::F32, &device);
        let bert = BertModel::load(vb, &config).map_err(|e| {
            format!(
                "`{}` does not match `{}`: {e}",
                weights_path.display(),
                config_path.display()
            )
        })?;

        Ok(LocalModel {
            dir: dir.to_path_buf(),
            tokenizer,
            bert,
            device,
            dimension: config.hidden_size,
            max_tokens,
            lowercase: st.do_lower_case,
        })
    }

    /// The length of every vector `embed` returns (384 for all-MiniLM-L6-v2).
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// The most word pieces (special tokens included) the model sees of one
    /// text: 256 for all-MiniLM-L6-v2; the rest of a longer text is cut.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// One L2-normalised vector per text, in the order given. Texts longer
    /// than `max_tokens` word pieces are truncated, as sentence-transformers
    /// does.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, String> {
        let inputs: Vec<String> = texts
            .iter()
            .map(|t| {
                if self.lowercase {
                    t.to_lowercase()
                } else {
                    (*t).to_owned()
                }
            })
            .collect();
        let encodings = self
            .tokenizer
            .encode_batch(inputs, true)
            .map_err(|e| format!("cannot tokenize: {e}"))?;

        // Longest first, so each batch holds texts of similar length.
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(encodings[i].len()));

        let mut vectors = vec![Vec::new(); encodings.len()];
        for chunk in order.chunks(BATCH_SIZE) {
            let batch: Vec<&Encoding> = chunk.iter().map(|&i| &encodings[i]).collect();
            let embedded = self
                .embed_batch(&batch)
                .map_err(|e| format!("cannot embed: {e}"))?;
            for (&i, vector) in chunk.iter().zip(embedded) {
                vectors[i] = vector;
            }
        }
        Ok(vectors)
    }

    /// Pads the batch to its longest text, runs BERT, mean-pools over the
    /// attention mask and normalises.
    fn embed_batch(&self, batch: &[&Encoding]) -> candle_core::Result<Vec<Vec<f32>>> {
        let len = batch.iter().map(|e| e.len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(batch.len() * len);
        let mut type_ids = Vec::with_capacity(batch.len() * len);
        let mut mask = Vec::with_capacity(batch.len() * len);
        for encoding in batch {
            let pad = len - encoding.len();
            ids.extend(encoding.get_ids().iter().copied());
            ids.extend(std::iter::repeat_n(0, pad));
            type_ids.extend(encoding.get_type_ids().iter().copied());
            type_ids.extend(std::iter::repeat_n(0, pad));
            mask.extend(std::iter::repeat_n(1u32, encoding.len()));
            mask.extend(std::iter::repeat_n(0u32, pad));
        }
        let shape = (batch.len(), len);
        let ids = Tensor::from_vec(ids, shape, &self.device)?;
        let type_ids = Tensor::from_vec(type_ids, shape, &self.device)?;
        let mask = Tensor::from_vec(mask, shape, &self.device)?;

        // (batch, len, hidden)
        let hidden = self.bert.forward(&ids, &type_ids, Some(&mask))?;
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9, f32::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f32::MAX)?;
        mean.broadcast_div(&norms)?.to_vec2::<f32>()
    }
}

/// The semantic cache's in-process backend (`local-model` in the config):
/// unlike [`LocalModel::embed`], a text the model would cut is refused.
impl super::Embedder for LocalModel {
    fn embed_prompt(&self, text: &str) -> Result<Vec<f32>, super::EmbedError> {
        let failed = |e: String| super::EmbedError::Failed(e);
        let input = if self.lowercase {
            text.to_lowercase()
        } else {
            text.to_owned()
        };
        let encoding = self
            .tokenizer
            .encode(input, true)
            .map_err(|e| failed(format!("cannot tokenize: {e}")))?;
        // The tokenizer truncates, keeping what it cut as overflow.
        if !encoding.get_overflowing().is_empty() {
            return Err(super::EmbedError::TooLong {
                max_tokens: self.max_tokens,
            });
        }
        let mut vectors = self
            .embed_batch(&[&encoding])
            .map_err(|e| failed(format!("cannot embed: {e}")))?;
        vectors.pop().ok_or_else(|| failed("no vector".to_owned()))
    }
}

/// What `sentence_bert_config.json` says, when the directory has one.
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
    do_lower_case: bool,
}

fn read_sentence_bert_config(dir: &Path) -> Result<SentenceBertConfig, String> {
    let path = dir.join("sentence_bert_config.json");
    if !path.exists() {
        return Ok(SentenceBertConfig {
            max_seq_length: None,
            do_lower_case: false,
        });
    }
    let json = read_json(&path)?;
    let max_seq_length = match json.get("max_seq_length") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|&n| n >= 2)
                .ok_or_else(|| {
                    format!(
                        "`{}`: `max_seq_length` must be a number of tokens, not `{v}`",
                        path.display()
                    )
                })?,
        ),
    };
    let do_lower_case = json
        .get("do_lower_case")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    Ok(SentenceBertConfig {
        max_seq_length,
        do_lower_case,
    })
}

/// Only mean pooling is implemented; a model that pools otherwise would load
/// and give wrong vectors, so it is refused.
fn check_pooling(dir: &Path) -> Result<(), String> {
    let path = dir.join("1_Pooling").join("config.json");
    if !path.exists() {
        return Ok(());
    }
    let json = read_json(&path)?;
    let mean = json
        .get("pooling_mode_mean_tokens")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let others = json.as_object().into_iter().flatten().any(|(key, value)| {
        key.starts_with("pooling_mode_")
            && key != "pooling_mode_mean_tokens"
            && value.as_bool() == Some(true)
    });
    if mean && !others {
        Ok(())
    } else {
        Err(format!(
            "`{}`: only mean pooling (`pooling_mode_mean_tokens` alone) is supported",
            path.display()
        ))
    }
}

fn require_file(path: &Path) -> Result<(), String> {
    if path.is_file() {
        Ok(())
    } else {
        Err(format!("missing model file `{}`", path.display()))
    }
}

fn read_text(path: &Path) -> Result<String, String> {
    require_file(path)?;
    std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    serde_json::from_str(&read_text(path)?)
        .map_err(|e| format!("`{}` is not valid JSON: {e}", path.display()))
}
