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
from norlm.evaluate.learning_signals_spread import side


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


def _interval(m: dict, scale: float = 1.0, unit: str = "") -> str:
    return (f"{scale * m['value']:+.3f}{unit}, 95 % interval {scale * m['low']:+.3f} to "
            f"{scale * m['high']:+.3f}{unit}")


def mlm_loss_verdict(margins: dict | None) -> str:
    """'Uses the context' only below the best context-free predictor (the bias-corrected unigram entropy
    of the targets) by more than the spread."""
    if not margins:
        return "no spread measured (signals.json predates it): rerun `norlm evaluate` for a verdict."
    best, uni = margins["loss_minus_best_unigram"], margins["loss_minus_train_unigram"]
    if side(best) < 0:
        return (f"below even the best context-free predictor of these targets ({_interval(best)} nats): the model "
                "uses its context (which pieces are around; word order is what the attention row shows).")
    if side(uni) < 0:
        return (f"below the corpus unigram ({_interval(uni)} nats) but not below the best context-free predictor "
                f"of these targets ({_interval(best)}): the model has learned word frequencies, not measurably "
                "the context.")
    where = "not distinguishable from" if side(uni) == 0 else "above"
    return f"{where} the corpus unigram level ({_interval(uni)} nats): word frequencies at most, not the context."


def mlm_accuracy_verdict(margins: dict | None) -> str:
    if not margins:
        return "no spread measured: rerun `norlm evaluate` for a verdict."
    acc = margins["accuracy_minus_top_piece"]
    text = {1: "more often right than", 0: "not distinguishable from", -1: "less often right than"}[side(acc)]
    return f"{text} always guessing the most frequent piece ({_interval(acc, 100, ' points')})."


def nsp_verdict(margins: dict | None) -> str:
    if not margins:
        return "no spread measured: rerun `norlm evaluate` for a verdict."
    nsp = margins["nsp_accuracy"]
    span = f"95 % interval {100 * nsp['low']:.1f} to {100 * nsp['high']:.1f} %"
    if side(nsp, 0.5):
        return f"away from chance ({span}): the pooled [CLS] tells related from unrelated segments."
    return f"not distinguishable from chance ({span}): next-sentence prediction has not been learned."


def render(signals: dict) -> list[str]:
    """The markdown table, one row per signal, each with a sentence saying what it means."""
    rows = []
    bert, att, elmo = signals.get("bert"), signals.get("attention"), signals.get("elmo")
    if bert:
        t, r, c, m = bert["trained"], bert["random_init"], bert["chance"], bert.get("margins")
        on_mask = (f" ({m['mlm_loss_judged']:.2f} on [MASK] inputs)", f" ({100 * m['mlm_accuracy_judged']:.1f} % on "
                   "[MASK] inputs)") if m else ("", "")
        rows.append(["BERT held-out MLM loss (nats)", f"{t['mlm_loss']:.2f}{on_mask[0]}", f"{r['mlm_loss']:.2f}",
                     f"unigram {c['train_unigram_xent']:.2f} (plug-in entropy of the targets {c['own_unigram_entropy']:.2f}); "
                     f"uniform {bert['uniform_xent']:.2f}", mlm_loss_verdict(m)])
        rows.append(["BERT held-out MLM accuracy", f"{100 * t['mlm_accuracy']:.1f} %{on_mask[1]}",
                     f"{100 * r['mlm_accuracy']:.1f} %", f"most frequent piece {100 * c['train_top_piece_accuracy']:.1f} %",
                     mlm_accuracy_verdict(m)])
        rows.append(["BERT held-out NSP accuracy", f"{100 * t['nsp_accuracy']:.1f} %", f"{100 * r['nsp_accuracy']:.1f} %",
                     f"50 % (random-next share {100 * bert['random_next_share']:.1f} %)", nsp_verdict(m)])
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
        m = bert.get("margins")
        if m:
            notes.append(f"Verdicts: a difference counts when its 95 % interval ({m['method']}, {m['resamples']} "
                         "resamples) excludes chance; otherwise it is \"not distinguishable\". The MLM verdicts "
                         f"judge the {m['mlm_targets_judged']:,} targets whose input was [MASK] (loss "
                         f"{m['mlm_loss_judged']:.2f}, accuracy {100 * m['mlm_accuracy_judged']:.1f} %): the other "
                         "targets show the model the original piece or a random one. The best context-free "
                         "predictor is the entropy of the judged targets, its plug-in estimate corrected for "
                         "its downward bias by the bootstrap.")
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

