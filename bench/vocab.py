"""Benchmark of the vocabulary stage (not a test).

1. Tokenization throughput, one thread, same text: our `tokenizers`-based BERT tokenizer
   (`norlm.vocab.tokenizer.build_tokenizer`) against transformers' pure-Python BERT tokenizer
   (`BertTokenizerLegacy`, the slow BasicTokenizer + WordpieceTokenizer), on the published NorBERT
   vocabulary and on a freshly trained one.  The ids of both are compared on the whole text.
2. Training time of `norlm vocab` (both methods) on a corpus built from the bundled text, next to
   NorBERT's original call (`SentencePieceBPETokenizer().train_from_iterator` on the raw lines).

Usage: .venv/bin/python bench/vocab.py [--repeat 3] [--size 8000]
"""
from __future__ import annotations

import os

os.environ["RAYON_NUM_THREADS"] = "1"  # one thread for the tokenizers side; must precede the import
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402
import csv  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
PUBLISHED = DATA / "norbert_vocab" / "norwegian_wordpiece_vocab_30k.txt"


def bench_text() -> list[str]:
    """UD 2.7 dev+test sentences, NoReC sentences and Wikipedia sample lines (raw, not pre-tokenised)."""
    out = []
    for path in sorted((DATA / "ud27").glob("*/*.conllu.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            out += [line[len("# text = "):].rstrip("\n") for line in fh if line.startswith("# text = ")]
    for split in ("train", "dev", "test"):
        with open(DATA / "norec_sentence" / "binary" / f"{split}.csv", encoding="utf-8", newline="") as fh:
            out += [row[1] for row in csv.reader(fh) if len(row) == 2]
    return out


def make_corpus(folder: Path) -> Path:
    """Shards from the bundled Wikipedia samples and NoReC (blank line between documents)."""
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    for name in ("wiki_no", "wiki_nn"):
        source = DATA / "wikipedia_sample" / "wikipedia_100k" / f"{name}.txt.gz"
        with gzip.open(source, "rt", encoding="utf-8") as src, \
                gzip.open(corpus / f"{name}-0000.txt.gz", "wt", encoding="utf-8") as dst:
            for line in src:
                dst.write(line.strip() + "\n\n")
    with gzip.open(corpus / "norec-0000.txt.gz", "wt", encoding="utf-8") as dst:
        dst.write("\n".join(bench_text()) + "\n")
    return corpus


def timed(fn) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process, result).  CPU time is the fairer number on a busy
    machine: both sides run on one thread in this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def throughput(vocab_txt: Path, texts: list[str], repeat: int) -> dict:
    """Interleaved rounds (legacy, batch, loop, batch_fast), best wall and best CPU time of each."""
    from transformers.models.bert import BertTokenizerLegacy

    from norlm.vocab.tokenizer import build_tokenizer

    ours = build_tokenizer(vocab_txt)
    slow = BertTokenizerLegacy(str(vocab_txt), do_lower_case=False)
    runs = {
        "legacy": lambda: [slow.encode(t) for t in texts],
        "batch": lambda: [e.ids for e in ours.encode_batch(texts)],
        "loop": lambda: [ours.encode(t).ids for t in texts],
        "batch_fast": lambda: [e.ids for e in ours.encode_batch_fast(texts)],
    }
    best = {name: [float("inf"), float("inf")] for name in runs}
    ids = {}
    for _ in range(repeat):
        for name, fn in runs.items():
            wall, cpu, ids[name] = timed(fn)
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
    assert ids["batch"] == ids["loop"] == ids["batch_fast"]
    same = sum(a == b for a, b in zip(ids["batch"], ids["legacy"]))
    n_tokens = sum(len(i) for i in ids["batch"])
    row = {"vocab": str(vocab_txt.relative_to(REPO) if vocab_txt.is_relative_to(REPO) else vocab_txt.name),
           "sentences": len(texts), "tokens": n_tokens, "identical_ids": f"{same}/{len(texts)}"}
    for name, (wall, cpu) in best.items():
        row[f"{name}_wall_s"], row[f"{name}_cpu_s"] = round(wall, 3), round(cpu, 3)
        row[f"{name}_tok_per_cpu_s"] = round(n_tokens / cpu)
        if name != "legacy":
            row[f"speedup_{name}_cpu"] = round(best["legacy"][1] / cpu, 1)
            row[f"speedup_{name}_wall"] = round(best["legacy"][0] / wall, 1)
    return row


def train_times(work: Path, size: int) -> dict:
    """`norlm vocab` per method (subprocess, as `make vocab` runs it) and NorBERT's original call."""
    from tokenizers import SentencePieceBPETokenizer

    out = {}
    env = dict(os.environ, NORLM_WORK=str(work), RAYON_NUM_THREADS="1")
    for method in ("spbpe", "wordpiece"):
        dest = work / f"vocab-{method}"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "norlm", "vocab", "--config", "configs/demo.toml", "--method", method,
                        "--out", str(dest), f"vocab.size={size}", "--no-reference"], cwd=REPO, env=env, check=True,
                       capture_output=True)
        total = time.perf_counter() - start
        report = json.loads((dest / "report.json").read_text(encoding="utf-8"))
        out[method] = {"stage_total_s": round(total, 2), **report["seconds"],
                       "fertility_ud": report["vocabularies"]["ours"]["fertility"]["all"]["fertility"]}
    raw = []
    for shard in sorted((work / "corpus").glob("*.txt.gz")):
        with gzip.open(shard, "rt", encoding="utf-8") as fh:
            raw += list(fh)  # NorBERT fed raw lines, newline included
    start = time.perf_counter()
    SentencePieceBPETokenizer().train_from_iterator(raw, vocab_size=size, show_progress=False)
    out["norbert_original_spbpe_train_s"] = round(time.perf_counter() - start, 2)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per tokenizer (best is kept)")
    parser.add_argument("--size", type=int, default=8000, help="vocabulary size for the training runs")
    parser.add_argument("--cpu", type=int, default=None, help="pin the process to this CPU (one core for both sides)")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    sys.path.insert(0, str(REPO / "src"))
    texts = bench_text()
    results = {"machine": f"{platform.node()} {platform.processor() or platform.machine()}, "
                          f"{os.cpu_count()} CPUs, Python {platform.python_version()}"}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        make_corpus(work)
        results["training"] = train_times(work, args.size)
        results["throughput"] = [throughput(PUBLISHED, texts, args.repeat),
                                 throughput(work / "vocab-spbpe" / "vocab.txt", texts, args.repeat)]
    print(json.dumps(results, indent=2, ensure_ascii=False))
    for row in results["throughput"]:
        print(f"{row['vocab']}: tokens per CPU-second, one thread: BertTokenizerLegacy "
              f"{row['legacy_tok_per_cpu_s']:,}; ours encode_batch {row['batch_tok_per_cpu_s']:,} "
              f"({row['speedup_batch_cpu']}x), encode loop {row['loop_tok_per_cpu_s']:,} ({row['speedup_loop_cpu']}x), "
              f"encode_batch_fast {row['batch_fast_tok_per_cpu_s']:,} ({row['speedup_batch_fast_cpu']}x); "
              f"wall-clock ratios {row['speedup_batch_wall']}x / {row['speedup_loop_wall']}x / "
              f"{row['speedup_batch_fast_wall']}x; identical ids {row['identical_ids']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
