"""Learning signals against their chance levels (WORK/eval/signals.json and its report table).

Downstream scores of a minutes-old model are small and noisy; these say directly what pretraining
did learn: BERT's held-out MLM loss and accuracy against a unigram predictor of the same masked
targets, its NSP accuracy against 50 %, ELMo's held-out perplexity against a unigram model of the
same held-out text, and the attention of BERT's heads on neighbouring tokens against the uniform
level (bert-attention).  Each is shown next to the same model at step 0 (its untrained twin).
"""
from __future__ import annotations

import time
from pathlib import Path

from norlm.errors import warn


def heldout_text(data_dir: Path) -> list[list[str]]:
    """UD 2.7 test sentences, Bokmål then Nynorsk (NDT test: not in the pretraining corpus)."""
    from norlm.evaluate.readers import read_conllu
    from norlm.evaluate.tasks import LANGS, _ud_path, UD_FOLDERS

    sentences = []
    for lang in LANGS:
        path = _ud_path(data_dir / "ud27" / UD_FOLDERS[lang][0], lang, "test")
        if path is not None:
            sentences += [r.words for r in read_conllu(path).records]
    return sentences


def attention_summary(model, tokenizer, sentences: list[list[str]], max_length: int, n: int = 32) -> dict:
    """bert-attention's per-head neighbour mass, summarised: mean and max over heads vs uniform."""
    from norlm.evaluate.attention import measure, pack_sequences

    ids, mask = pack_sequences((" ".join(w) for w in sentences), tokenizer, n, max_length)
    rows = measure(model, ids, mask)
    neighbour = [max(r["previous"], r["next"]) for r in rows]
    return {"heads": len(rows), "uniform": rows[0]["uniform"], "mean_neighbour": sum(neighbour) / len(rows),
            "max_neighbour": max(neighbour), "positional_heads": sum(r["positional"] for r in rows),
            "sequences": int(len(ids))}


def compute(cfg, lay, data_dir: Path) -> dict:
    """Every signal whose model exists; written to WORK/eval/signals.json."""
    from norlm.files import open_text, write_json

    t0 = time.perf_counter()
    out: dict = {"seed": cfg.run.seed}
    has_bert = (lay.hf_dir / "config.json").is_file()
    sentences = heldout_text(data_dir) if has_bert else []
    if has_bert and sentences:
        from norlm.evaluate.bert_models import load_bert
        from norlm.evaluate.learning_signals_bert import bert_signals

        def corpus_lines():
            for shard in lay.corpus_shards():
                with open_text(shard) as fh:
                    yield from fh

        trained = load_bert(lay.hf_dir)
        twin = load_bert(lay.hf_dir, pretrained=False, seed=cfg.run.seed).model  # bert-train's step 0
        out["bert"] = bert_signals(trained, twin, sentences, corpus_lines(), cfg.run.seed)
        length = min(128, trained.config.max_position_embeddings)
        out["attention"] = {"trained": attention_summary(trained.model, trained.tokenizer, sentences, length),
                            "random_init": attention_summary(twin, trained.tokenizer, sentences, length)}
    elif has_bert:
        warn(f"{data_dir}/ud27: no UD test files, so no held-out BERT signals")
    if lay.elmo_final.is_file():
        from norlm.evaluate.learning_signals_elmo import elmo_signals

        elmo = elmo_signals(lay)
        if elmo:
            out["elmo"] = elmo
    out["seconds"] = round(time.perf_counter() - t0, 1)
    write_json(lay.eval_signals, out)
    return out


def _verdict(ok: bool, yes: str, no: str) -> str:
    return yes if ok else no


def render(signals: dict) -> list[str]:
    """The markdown table, one row per signal, each with a sentence saying what it means."""
    rows = []
    bert, att, elmo = signals.get("bert"), signals.get("attention"), signals.get("elmo")
    if bert:
        t, r, c = bert["trained"], bert["random_init"], bert["chance"]
        rows.append(["BERT held-out MLM loss (nats)", f"{t['mlm_loss']:.2f}", f"{r['mlm_loss']:.2f}",
                     f"unigram {c['train_unigram_xent']:.2f} (plug-in entropy of the targets {c['own_unigram_entropy']:.2f}); "
                     f"uniform {bert['uniform_xent']:.2f}",
                     _verdict(t["mlm_loss"] < c["train_unigram_xent"],
                              "below the unigram level: the model uses the context, not only word frequencies.",
                              "not below the unigram level: the model has learned word frequencies, not yet the context.")])
        rows.append(["BERT held-out MLM accuracy", f"{100 * t['mlm_accuracy']:.1f} %", f"{100 * r['mlm_accuracy']:.1f} %",
                     f"most frequent piece {100 * c['train_top_piece_accuracy']:.1f} %",
                     _verdict(t["mlm_accuracy"] > c["train_top_piece_accuracy"] + 0.01,
                              "more right than always guessing the most frequent piece.",
                              "no better than always guessing the most frequent piece.")])
        rows.append(["BERT held-out NSP accuracy", f"{100 * t['nsp_accuracy']:.1f} %", f"{100 * r['nsp_accuracy']:.1f} %",
                     f"50 % (random-next share {100 * bert['random_next_share']:.1f} %)",
                     _verdict(abs(t["nsp_accuracy"] - 0.5) > 0.05,
                              "away from chance: the pooled [CLS] tells related from unrelated segments.",
                              "at chance: next-sentence prediction has not been learned.")])
    if att:
        a, r = att["trained"], att["random_init"]
        rows.append(["BERT attention on the previous/next token (mean / max over heads)",
                     f"{a['mean_neighbour']:.3f} / {a['max_neighbour']:.3f}", f"{r['mean_neighbour']:.3f} / {r['max_neighbour']:.3f}",
                     f"uniform {a['uniform']:.3f}; positional heads {a['positional_heads']} of {a['heads']}",
                     _verdict(a["positional_heads"] > 0,
                              "some heads attend to a fixed neighbour: word order has started to matter.",
                              "no head attends to its neighbours more than to any token: the encoder reads a bag of words.")])
    if elmo:
        rows.append(["ELMo held-out perplexity", f"{elmo['trained_perplexity']:.1f}", f"{elmo['start_perplexity']:.1f}",
                     f"unigram {elmo['train_unigram_perplexity']:.1f} (fitted on the held-out text itself "
                     f"{elmo['own_unigram_perplexity']:.1f})",
                     _verdict(elmo["trained_perplexity"] < elmo["train_unigram_perplexity"],
                              f"below the unigram level after {elmo['steps']} updates: the LM predicts from context.",
                              f"not below the unigram level after {elmo['steps']} updates: the LM has not learned context yet.")])
    if not rows:
        return []
    lines = ["| signal | this run | same model at step 0 | chance level | what it means |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    notes = []
    if bert:
        notes.append(f"BERT: {bert['pairs']:,} A/B pairs ({bert['trained']['masked_targets']:,} masked "
                     f"targets) built like the pretraining data from {bert['sentences']:,} UD test sentences "
                     "(NDT test, not in the corpus); the unigram is fitted on the pretraining corpus.")
    if elmo:
        notes.append(f"ELMo: the {elmo['heldout_sentences']} sentences elmo-train kept out, {elmo['targets']:,} targets "
                     "over both directions; the unigram is fitted on the training sentences.")
    return lines + [""] + [f"- {n}" for n in notes]


def render_file(path: Path) -> list[str]:
    """render() of a signals.json, or nothing when it is missing or unreadable."""
    from norlm.files import read_json

    try:
        return render(read_json(path))
    except (OSError, ValueError, KeyError) as exc:
        if Path(path).exists():
            warn(f"{path}: unreadable learning signals ({exc}); left out of the report")
        return []

