#!/usr/bin/env python3
"""Reference embeddings for dedupe's embed.rs test, computed independently of candle.

A plain numpy forward pass of the BERT encoder over the same model.safetensors (read by hand,
no torch, no safetensors package), Hugging Face `tokenizers` with truncation at 256 and no
padding, then sentence-transformers' mean pooling and L2 normalisation. Writes
embeddings.tsv beside this file: per text its first four components, per pair its cosine.

    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install tokenizers numpy
    models/fetch-minilm
    /tmp/refvenv/bin/python plugins/dedupe/test_data/embeddings_reference.py models/all-MiniLM-L6-v2
"""
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

TEXTS = [
    ("quake", "A magnitude 7.6 earthquake struck off the coast of Sumatra on Wednesday, killing hundreds."),
    ("tremor", "Hundreds died when a powerful quake hit western Indonesia.\nRescuers searched collapsed buildings."),
    ("oscars", "Hugh Jackman will host the Academy Awards ceremony in February."),
    # Over 256 word pieces: checks the truncation (the tail must not count).
    ("long", "Firefighters fought the church blaze through the night. " * 30 + "The Oscars were moved."),
]
PAIRS = [("quake", "tremor"), ("quake", "oscars"), ("tremor", "oscars"), ("long", "oscars")]


def tensors(path):
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":  # position_ids (I64) is not a weight
            continue
        start, end = info["data_offsets"]
        out[name.removeprefix("bert.")] = np.frombuffer(data[8 + n + start : 8 + n + end], dtype="<f4").reshape(info["shape"]).astype(np.float64)
    return out


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


erf = np.vectorize(math.erf)


def embed(t, config, ids):
    eps = config["layer_norm_eps"]
    heads = config["num_attention_heads"]
    x = t["embeddings.word_embeddings.weight"][ids] + t["embeddings.position_embeddings.weight"][: len(ids)] + t["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"], eps)
    lin = lambda x, p: x @ t[p + ".weight"].T + t[p + ".bias"]
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        n, d = x.shape
        hd = d // heads
        split = lambda y: y.reshape(n, heads, hd).transpose(1, 0, 2)
        q, k, v = (split(lin(x, p + f"attention.self.{w}")) for w in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        ctx = (scores @ v).transpose(1, 0, 2).reshape(n, d)
        x = layer_norm(x + lin(ctx, p + "attention.output.dense"), t[p + "attention.output.LayerNorm.weight"], t[p + "attention.output.LayerNorm.bias"], eps)
        h = lin(x, p + "intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
        x = layer_norm(x + lin(h, p + "output.dense"), t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"], eps)
    pooled = x.mean(0)
    return pooled / max(np.linalg.norm(pooled), 1e-12)


def main():
    model = Path(sys.argv[1])
    config = json.loads((model / "config.json").read_text())
    tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
    tokenizer.enable_truncation(256)
    tokenizer.no_padding()
    t = tensors(model / "model.safetensors")
    vectors = {name: embed(t, config, tokenizer.encode(text).ids) for name, text in TEXTS}
    out = Path(__file__).with_name("embeddings.tsv")
    with out.open("w") as f:
        f.write("# made by embeddings_reference.py (numpy BERT, HF tokenizers) from all-MiniLM-L6-v2\n")
        f.write("# text<TAB>name<TAB>text (\\n for newline)<TAB>first four components; pair<TAB>a<TAB>b<TAB>cosine\n")
        for name, text in TEXTS:
            comps = ",".join(f"{c:.6f}" for c in vectors[name][:4])
            f.write(f"text\t{name}\t{text.replace(chr(10), chr(92) + 'n')}\t{comps}\n")
        for a, b in PAIRS:
            f.write(f"pair\t{a}\t{b}\t{float(vectors[a] @ vectors[b]):.6f}\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
