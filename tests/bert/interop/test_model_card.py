"""The model card is built from the stages' own summary files, and says so when one is missing."""
from __future__ import annotations

import json

from norlm.bert.interop.hf_files import hf_config_dict
from norlm.bert.model import BertConfig
from norlm.layout import Layout
from norlm.bert.interop.model_card import corpus_table, phase_summary, render_model_card


def test_corpus_table_rows_and_total():
    stats = {"sources": {"wiki-nb": {"kind": "wikipedia", "lang": "nb", "documents": 5, "sentences": 40,
                                     "words": 500}},
             "total": {"documents": 5, "sentences": 40, "words": 500}}
    table = corpus_table(stats).splitlines()
    assert table[2] == "| wiki-nb | wikipedia | nb | 5 | 40 | 500 |"
    assert table[3] == "| **total** | | | 5 | 40 | 500 |"


def test_phase_summary_picks_sizes_losses_and_eval():
    final = {"phase": 1, "global_step": 795000, "checkpoint": "x" * 200, "global_batch": 768,
             "last": {"mlm_loss": 1.9, "nsp_loss": 0.05, "total_loss": 1.95, "applied": True},
             "eval": {"masked_lm_accuracy": 0.61}}
    assert phase_summary(final) == [("global_step", 795000), ("global_batch", 768), ("last.mlm_loss", 1.9),
                                    ("last.nsp_loss", 0.05), ("last.total_loss", 1.95),
                                    ("eval.masked_lm_accuracy", 0.61)]


def test_card_without_any_stage_files(tmp_path):
    bert = BertConfig(vocab_size=100, num_hidden_layers=2).to_json_dict()
    card = render_model_card(model_name="m", lay=Layout(tmp_path), bert_config=bert, hf_config=hf_config_dict(bert),
                             checkpoint="ck", step=7, license_id="cc-by-4.0", config_file="configs/demo.toml")
    assert card.startswith("---\nlanguage:\n")
    assert card.count("_not available_") == 3  # corpus, vocabulary, training phases
    assert "`make evaluate` had not been run" in card
    assert "| `num_hidden_layers` | 2 |" in card and "after **7** updates" in card
    (tmp_path / "bert" / "phase1").mkdir(parents=True)
    (tmp_path / "bert" / "phase1" / "final.json").write_text(json.dumps({"global_step": 7}))
    card = render_model_card(model_name="m", lay=Layout(tmp_path), bert_config=bert, hf_config=hf_config_dict(bert),
                             checkpoint="ck", step=7, license_id="cc-by-4.0", config_file="configs/demo.toml")
    assert "### Phase 1\n\n| key | value |\n|---|---|\n| `global_step` | 7 |\n" in card
