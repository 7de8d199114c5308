"""The Stanza segmenter path of the corpus stage, run here without a download.

configs/norbert1.toml and the NorELMo configs segment with Stanza (as the paper did), and no
Stanza model can be fetched here.  This trains a small Stanza tokenizer (sentence + token
boundaries) offline on the bundled UD 2.7 Bokmål dev set (the training set is not bundled; the
last 300 dev sentences select the model), installs it as the `nb` tokenize
model of a STANZA_RESOURCES_DIR, builds norlm.corpus.segment.StanzaSegmenter from it (the code
path `norlm corpus --segmenter stanza` runs) and measures sentence-boundary F1 and sentences per
CPU second on one core, beside Punkt (the baseline, same text, same process) and a naive regex.
A model trained for a few hundred steps is not the published one: its speed is representative
(same network shape as Stanza's default tokenizer), its F1 is a lower bound.

    nice -n 10 .venv/bin/python bench/stanza_segmenter.py [--steps 300] [--work /tmp/stanza-nb]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

UD = REPO / "data/ud27/UD_Norwegian-Bokmaal"
PARAGRAPH = 10  # gold sentences per paragraph of the training text


def _blocks(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [b for b in fh.read().split("\n\n") if b.strip()]


def _text_of(block: str) -> str:
    return next(line[len("# text = "):].strip() for line in block.split("\n") if line.startswith("# text = "))


HELD_OUT = 300  # last dev sentences: Stanza's model selection


def prepare(split: str, work: Path) -> tuple[Path, Path, Path]:
    """UD sentences -> raw paragraphs (.txt), their CoNLL-U, and Stanza's character labels."""
    from stanza.utils.datasets import prepare_tokenizer_data

    blocks = _blocks(UD / "no_bokmaal-ud-dev.conllu.gz")
    blocks = blocks[:-HELD_OUT] if split == "train" else blocks[-HELD_OUT:]
    paragraphs = [" ".join(_text_of(b) for b in blocks[i:i + PARAGRAPH]) for i in range(0, len(blocks), PARAGRAPH)]
    txt, conllu, labels = work / f"{split}.txt", work / f"{split}.conllu", work / f"{split}.toklabels"
    txt.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    conllu.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
    prepare_tokenizer_data.main([str(txt), str(conllu), "-o", str(labels), "-m", str(work / f"{split}-mwt.json")])
    return txt, conllu, labels


def train(work: Path, steps: int) -> Path:
    """Train the tokenizer (UD dev minus its last 300 sentences; those select); returns the model."""
    from stanza.models import tokenizer

    tr_txt, _, tr_labels = prepare("train", work)
    dev_txt, dev_conllu, dev_labels = prepare("dev", work)
    tokenizer.main(["--mode", "train", "--txt_file", str(tr_txt), "--label_file", str(tr_labels),
                    "--mwt_json_file", str(work / "train-mwt.json"),
                    "--dev_txt_file", str(dev_txt), "--dev_label_file", str(dev_labels),
                    "--dev_conll_gold", str(dev_conllu), "--conll_file", str(work / "dev.pred.conllu"),
                    "--lang", "nb", "--shorthand", "nb_bokmaal", "--save_dir", str(work / "model"),
                    "--save_name", "nb_bokmaal_tokenizer.pt", "--steps", str(steps), "--eval_steps",
                    str(max(50, steps // 3)), "--report_steps", "50", "--cpu", "--seed", "1"])
    return work / "model" / "nb_bokmaal_tokenizer.pt"


def install(model: Path, resources: Path) -> None:
    """A resources folder with this model as Stanza's `nb` tokenize model (what the stage expects)."""
    (resources / "nb" / "tokenize").mkdir(parents=True, exist_ok=True)
    (resources / "nb" / "tokenize" / "bokmaal.pt").write_bytes(model.read_bytes())
    doc = {"nb": {"lang_name": "Norwegian Bokmaal", "tokenize": {"bokmaal": {}},
                  "default_processors": {"tokenize": "bokmaal"}, "packages": {"default": {"tokenize": "bokmaal"}}}}
    (resources / "resources.json").write_text(json.dumps(doc))


def measure(segmenter, sentences: list[str], chunk: int = 10) -> dict:
    """Boundary P/R/F1 inside chunks of gold sentences, and sentences per CPU second of this process."""
    from segmentation import ends

    tp = fp = fn = 0
    cpu = 0.0
    for i in range(0, len(sentences), chunk):
        gold = sentences[i:i + chunk]
        text = " ".join(gold)
        t0 = time.process_time()
        pred = segmenter.split([text])
        cpu += time.process_time() - t0
        g, p = ends(text, gold) - {len(text)}, ends(text, pred) - {len(text)}
        tp, fp, fn = tp + len(g & p), fp + len(p - g), fn + len(g - p)
    prec, rec = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return {"p": round(prec, 3), "r": round(rec, 3), "f1": round(2 * prec * rec / max(1e-9, prec + rec), 3),
            "sentences_per_cpu_s": round(len(sentences) / cpu, 1), "cpu_s": round(cpu, 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--work", type=Path, default=Path("/tmp/norlm-stanza-nb"))
    ap.add_argument("--json", type=Path, default=None, help="also write the results here (for bench/scale.py)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)  # per core, as one corpus worker runs it
    args.work.mkdir(parents=True, exist_ok=True)
    t0 = time.process_time()
    model = train(args.work, args.steps)
    train_cpu = time.process_time() - t0
    install(model, args.work / "resources")
    os.environ["STANZA_RESOURCES_DIR"] = str(args.work / "resources")
    from norlm.corpus.segment import make_segmenter
    from segmentation import NaiveSegmenter, gold_sentences

    test = gold_sentences(UD / "no_bokmaal-ud-test.conllu.gz")
    rows = {"naive-regex": measure(NaiveSegmenter(), test), "punkt (baseline)": measure(make_segmenter("punkt", "nb"), test),
            "stanza (trained here)": measure(make_segmenter("stanza", "nb"), test)}
    base = rows["punkt (baseline)"]["sentences_per_cpu_s"]
    print(f"stanza tokenizer: {args.steps} steps on UD 2.7 nb dev, {train_cpu:.0f} CPU s; UD 2.7 nb test, "
          f"{len(test)} sentences in chunks of 10, one thread")
    print("| segmenter | P | R | F1 | sentences per CPU s | vs punkt |\n|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['p']} | {r['r']} | {r['f1']} | {r['sentences_per_cpu_s']} | "
              f"{r['sentences_per_cpu_s'] / base:.3f} |")
    if args.json:
        args.json.write_text(json.dumps({"text": f"UD 2.7 nb test, {len(test)} sentences, chunks of 10, one thread",
                                         "stanza_train_steps": args.steps, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
