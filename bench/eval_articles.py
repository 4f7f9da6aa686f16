"""Writes N articles from the eval sets into a folder, as the pipeline benchmarks drop them:
half CNN/DM + XSum articles, half ECB+ texts (whose same-event groups make multi-source stories).

    python3 bench/eval_articles.py EVAL_DIR OUT_DIR N
"""
import json
import os
import sys

eval_dir, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
half = n // 2
with open(os.path.join(eval_dir, "summaries", "articles.jsonl")) as f:
    rows = [json.loads(line) for line in f][:half]
for i, r in enumerate(rows):
    with open(os.path.join(out, f"sum_{i:03}_{r['id'][:8]}.txt"), "w") as f:
        f.write(r["article"])
texts = sorted(os.listdir(os.path.join(eval_dir, "same-story", "text")))[: n - len(rows)]
for name in texts:
    with open(os.path.join(eval_dir, "same-story", "text", name), "rb") as src, open(
        os.path.join(out, "ecb_" + name), "wb"
    ) as dst:
        dst.write(src.read())
