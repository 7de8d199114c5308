"""The README.md model card of an exported BERT: what it was trained on, how, how far, how well.

Everything comes from files the earlier stages wrote (corpus/stats.json, vocab/report.json,
bert/phaseN/final.json, eval/report.md); a missing file gives a "not available" line, never an error.
"""
from __future__ import annotations

import json
from pathlib import Path

CITATION = """@inproceedings{kutuzov-etal-2021-large,
    title = "Large-Scale Contextualised Language Modelling for {N}orwegian",
    author = "Kutuzov, Andrey and Barnes, Jeremy and Velldal, Erik and {\\O}vrelid, Lilja and Oepen, Stephan",
    booktitle = "Proceedings of the 23rd Nordic Conference on Computational Linguistics (NoDaLiDa)",
    year = "2021",
    address = "Reykjavik, Iceland (Online)",
    publisher = {Link{\\"o}ping University Electronic Press, Sweden},
    url = "https://aclanthology.org/2021.nodalida-main.4",
    pages = "30--40",
}"""


def _read_json(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def scalars(data: dict, prefix: str = "", limit: int = 20) -> list[tuple[str, object]]:
    """Flatten a JSON object to (dotted key, number/string/bool) pairs, at most `limit` of them."""
    out: list[tuple[str, object]] = []
    for key, value in data.items():
        if len(out) >= limit:
            break
        if isinstance(value, dict):
            out += scalars(value, f"{prefix}{key}.", limit - len(out))
        elif isinstance(value, (int, float, str, bool)) and not (isinstance(value, str) and len(value) > 80):
            out.append((prefix + key, value))
    return out[:limit]


_PHASE_KEYS = ("global_step", "train_steps", "global_batch", "max_seq_length", "max_predictions_per_seq", "workers",
               "precision", "steady_throughput_seq_s")
_LOSS_KEYS = ("mlm_loss", "nsp_loss", "total_loss")


def phase_summary(final: dict) -> list[tuple[str, object]]:
    """The lines of a training phase's final.json worth showing: sizes, final losses, evaluation."""
    pairs: list[tuple[str, object]] = [(k, final[k]) for k in _PHASE_KEYS if final.get(k) is not None]
    for part in ("first", "last"):
        block = final.get(part)
        if isinstance(block, dict):
            pairs += [(f"{part}.{k}", block[k]) for k in _LOSS_KEYS if isinstance(block.get(k), (int, float))]
    if isinstance(final.get("eval"), dict):
        pairs += scalars(final["eval"], "eval.")
    return pairs or scalars(final)


def corpus_table(stats: dict) -> str:
    """One row per corpus source (kind, language, documents, sentences, words) plus the total."""
    sources = stats.get("sources")
    if not isinstance(sources, dict) or not sources:
        return _table(scalars(stats, limit=15))
    cols = ("documents", "sentences", "words")
    rows = ["| source | kind | lang | " + " | ".join(cols) + " |", "|---|---|---|" + "---:|" * len(cols)]
    for name, src in sources.items():
        src = src if isinstance(src, dict) else {}
        rows.append(f"| {name} | {src.get('kind', '')} | {src.get('lang', '')} | "
                    + " | ".join(f"{src.get(c, '')}" for c in cols) + " |")
    total = stats.get("total")
    if isinstance(total, dict):
        rows.append("| **total** | | | " + " | ".join(f"{total.get(c, '')}" for c in cols) + " |")
    return "\n".join(rows) + "\n"


def _table(pairs: list[tuple[str, object]]) -> str:
    if not pairs:
        return "_not available_\n"
    rows = ["| key | value |", "|---|---|"]
    for key, value in pairs:
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        rows.append(f"| `{key}` | {shown} |")
    return "\n".join(rows) + "\n"


SIZE_KEYS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
             "max_position_embeddings", "type_vocab_size")
VOCAB_KEYS = ("size", "size_requested", "method", "unused", "alphabet_size", "character_coverage", "min_frequency")


def training_section(lay) -> str:
    """One table per training phase that left a final.json."""
    phases = []
    for n in (1, 2):
        final = _read_json(lay.bert_final(n))
        if final is not None:
            phases.append(f"### Phase {n}\n\n" + _table(phase_summary(final)) + "\n")
    return "".join(phases) if phases else "_not available_\n"


def evaluation_section(lay) -> str:
    """The evaluation report without its own title, its top-level headings one level down."""
    eval_report = lay.eval_report
    if not eval_report.is_file():
        return "_No evaluation results: `make evaluate` had not been run when this model was exported._\n"
    evaluation = eval_report.read_text(encoding="utf-8")
    if evaluation.startswith("# "):  # the report's own title; this section already has one
        evaluation = evaluation.split("\n", 1)[1].lstrip("\n") if "\n" in evaluation else ""
    return evaluation.replace("\n# ", "\n### ")


def render_model_card(*, model_name: str, lay, bert_config: dict, hf_config: dict, checkpoint: str,
                      step: int, license_id: str, config_file: str) -> str:
    """The model card text (YAML front matter for the Hugging Face Hub + markdown)."""
    vocab = _read_json(lay.vocab_report) or {}
    vocab_summary = [(k, vocab[k]) for k in VOCAB_KEYS if k in vocab] or scalars(vocab, limit=12)
    return CARD_TEMPLATE.format(
        model_name=model_name, license_id=license_id, hidden_act=hf_config["hidden_act"],
        layer_norm_eps=hf_config["layer_norm_eps"], corpus_table=corpus_table(_read_json(lay.corpus_stats) or {}),
        vocab_table=_table(vocab_summary), sizes=_table([(k, bert_config[k]) for k in SIZE_KEYS]),
        config_file=config_file, checkpoint=checkpoint, step=step, training=training_section(lay),
        evaluation=evaluation_section(lay), citation=CITATION)


# The card; str.format fields filled by render_model_card.
CARD_TEMPLATE = """---
language:
- "no"
- nb
- nn
license: {license_id}
library_name: transformers
pipeline_tag: fill-mask
tags:
- bert
- norwegian
- norlm
---

# {model_name}

A BERT model for Norwegian (Bokmål and Nynorsk) built with the NorLM recipe, a reimplementation of
the NorBERT training setup (Kutuzov et al., NoDaLiDa 2021) in TensorFlow 2: NVIDIA's BERT pretraining
(masked language modelling + next sentence prediction, LAMB), cased WordPiece vocabulary with accents kept.

This folder holds `BertForPreTraining` weights (encoder, pooler, MLM head tied to the word embeddings,
NSP head) in `model.safetensors`, the vocabulary (`vocab.txt`) and a fast tokenizer (`tokenizer.json`).

```python
from transformers import AutoTokenizer, AutoModelForMaskedLM, pipeline
tokenizer = AutoTokenizer.from_pretrained("PATH/TO/THIS/FOLDER")
model = AutoModelForMaskedLM.from_pretrained("PATH/TO/THIS/FOLDER")
print(pipeline("fill-mask", model=model, tokenizer=tokenizer)("Jeg [MASK] elsker dette landet."))
```

**Activation.** Training used the tanh approximation of GELU (as the original TensorFlow BERT code
does), so `config.json` says `hidden_act: {hidden_act}` (Hugging Face's name for the tanh GELU),
not `gelu` (exact erf). LayerNorm epsilon is {layer_norm_eps}.

**Tokenizer.** Cased: `do_lower_case` false and `strip_accents` false, so `å`, `æ`, `ø` and accents are kept.

## Training data

{corpus_table}
Vocabulary (`vocab/report.json`):

{vocab_table}
## Model configuration

{sizes}
## Training

Recipe config: `{config_file}`. Exported from checkpoint `{checkpoint}` after **{step}** updates.
Values reported at the end of each training phase (`bert/phaseN/final.json`; `first.*` are the
losses of the first update, `last.*` of the last one):

{training}
## Evaluation

{evaluation}
## Other formats

`../tf1/` next to this folder holds the same weights as a TensorFlow 1 name-based checkpoint with the
original BERT variable names (model variables only), `bert_config.json` and `vocab.txt`.

## Licence

{license_id}. Check the licences of the training corpora as well.

## Citation

```bibtex
{citation}
```
"""
