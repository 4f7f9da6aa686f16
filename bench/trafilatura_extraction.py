"""trafilatura on the extraction set: the benchmark's token metric and pages/s (start-up excluded),
and its F1 on each held-out fold of briefd's site-fold cross-validation (the same folds as
daemon/eval/src/site_folds.rs: distinct hosts of the pages' urls, without `www.`, sorted and dealt
round-robin into 5 folds). trafilatura is run with fixed settings, so its fold figure is simply its
score on the fold's pages; nothing is chosen on the other folds.

Used by bench/clean; prints lines named like briefd's own `eval extraction` output."""
import gzip, json, os, re, sys, time
from collections import Counter
from urllib.parse import urlparse

FOLDS = 5

def host(url):
    h = (urlparse(url).hostname or "").lower()
    return h[4:] if h.startswith("www.") else h

def prf(scores):
    ps = [tp / (tp + fp) for tp, fp, fn in scores if tp + fp > 0]
    rs = [tp / (tp + fn) for tp, fp, fn in scores if tp + fn > 0]
    p = sum(ps) / len(ps) if ps else 0.0
    r = sum(rs) / len(rs) if rs else 0.0
    return p, r, (2 * p * r / (p + r) if p + r > 0 else 0.0)

import trafilatura

def shingles(text):
    tokens = re.findall(r"\w+", text or "")
    if not tokens:
        return Counter()
    if len(tokens) < 4:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i:i + 4]) for i in range(len(tokens) - 3))

def score(gold, pred):
    g, p = shingles(gold), shingles(pred)
    tp = sum((g & p).values()); fp = sum((p - g).values()); fn = sum((g - p).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0, 0, 0)

def main(directory):
    truth = json.load(open(os.path.join(directory, "ground-truth.json")))
    names = sorted(n for n in os.listdir(os.path.join(directory, "html")) if n.endswith(".html.gz"))
    pages = [(n[:-len(".html.gz")], gzip.open(os.path.join(directory, "html", n)).read().decode("utf-8", "replace")) for n in names]
    for label, kwargs in (("default", {}), ("favor_precision", {"favor_precision": True})):
        scores, spent = [], 0.0
        for page_id, html in pages:
            began = time.perf_counter()
            text = trafilatura.extract(html, **kwargs) or ""
            spent += time.perf_counter() - began
            scores.append(score(truth[page_id]["articleBody"], text))
        p, r, f1 = prf(scores)
        print(f"trafilatura-py {label} precision {p:.3f}")
        print(f"trafilatura-py {label} recall {r:.3f}")
        print(f"trafilatura-py {label} F1 {f1:.3f}")
        hosts = [host(truth[page_id]["url"]) for page_id, _ in pages]
        distinct = sorted(set(hosts))
        folds = [distinct.index(h) % FOLDS for h in hosts]
        total = 0.0
        for fold in range(FOLDS):
            f = prf([s for s, k in zip(scores, folds) if k == fold])[2]
            total += f / FOLDS
            print(f"cv fold {fold + 1} trafilatura-py {label} F1 {f:.3f}")
        print(f"cv mean trafilatura-py {label} F1 {total:.3f}")
        print(f"trafilatura-py {label} pages/s {len(pages) / spent:.1f}")

if __name__ == "__main__":
    main(sys.argv[1])
