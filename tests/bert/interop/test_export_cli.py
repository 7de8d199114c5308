"""`norlm bert-export` on a work folder laid out as bert-train leaves it."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.conftest import run_norlm


def _training_checkpoint(folder, model, step: int) -> None:
    """Save like bert-train: `model`, optimiser slots and training state in one tf.train.Checkpoint."""
    import tensorflow as tf

    from norlm.bert.train.checkpoint import CheckpointKeeper, TrainState

    optimizer = tf.Module()
    optimizer.slots = {f"{name}/adam_m": tf.Variable(tf.zeros_like(var)) for name, var in
                       list(model.variables_by_name().items())[:3]}
    state = TrainState()
    state.global_step.assign(step)
    folder.mkdir(parents=True, exist_ok=True)
    CheckpointKeeper(folder, model, optimizer, state).save()
    (folder / "bert_config.json").write_text(json.dumps(model.config.to_json_dict()))


@pytest.fixture(scope="module")
def work(tmp_path_factory, tiny_model, small_vocab):
    from norlm.bert.model import BertPretrainingModel

    work = tmp_path_factory.mktemp("work")
    shutil.copytree(small_vocab, work / "vocab")
    _training_checkpoint(work / "bert" / "phase1", BertPretrainingModel(tiny_model.config, seed=11), step=5)
    _training_checkpoint(work / "bert" / "phase2", tiny_model, step=9)
    (work / "bert" / "phase2" / "final.json").write_text(json.dumps(
        {"phase": 2, "global_step": 9, "train_steps": 9, "global_batch": 4,
         "last": {"mlm_loss": 6.54321, "nsp_loss": 0.6931, "total_loss": 7.2363}}))
    (work / "eval").mkdir()
    (work / "eval" / "report.md").write_text("# Evaluation\n\n| task | F1 |\n|---|---|\n| pos | 0.9123 |\n")
    return work


def test_export_cli(work, tiny_model, monkeypatch):
    import tensorflow as tf

    from norlm.bert.interop.export import model_arrays
    from norlm.bert.interop.import_hf import read_hf_bert
    from norlm.cli import main
    from norlm.files import sha256_file

    proc = run_norlm("bert-export", "--config", "demo", work=work, timeout=300)
    assert "phase2/model.ckpt-9 (step 9, 46 weights)" in proc.stdout
    hf, tf1 = work / "bert" / "export" / "hf", work / "bert" / "export" / "tf1"
    # the newest phase-2 checkpoint is exported, exactly
    config, arrays = read_hf_bert(hf)
    expected = model_arrays(tiny_model)
    assert config == tiny_model.config and all(np.array_equal(arrays[k], expected[k]) for k in expected)
    listed = dict(tf.train.list_variables(str(tf1)))
    assert set(listed) == set(expected)  # no adam_m slots, no training state
    assert (tf1 / "model.ckpt-9.index").is_file()
    assert (hf / "run-bert-export.json").is_file() and (tf1 / "run-bert-export.json").is_file()
    card = (hf / "README.md").read_text()
    assert "after **9** updates" in card and "| `last.mlm_loss` | 6.5432 |" in card
    assert "| pos | 0.9123 |" in card and "gelu_new" in card and "kutuzov-etal-2021-large" in card
    assert "license: cc-by-4.0" in card
    assert not (work / "bert" / "export" / ".tokenizer.json").exists()
    # rerun (in-process this time): same bytes
    compared = ("model.safetensors", "config.json", "tokenizer.json", "vocab.txt")
    first = {name: sha256_file(hf / name) for name in compared}
    monkeypatch.setenv("NORLM_WORK", str(work))
    assert main(["bert-export", "--config", "demo"]) == 0
    assert first == {name: sha256_file(hf / name) for name in first}


def test_export_without_checkpoint_fails_clearly(tmp_path, monkeypatch, capsys):
    from norlm.cli import main

    monkeypatch.setenv("NORLM_WORK", str(tmp_path))
    assert main(["bert-export", "--config", "demo"]) == 2
    err = capsys.readouterr().err
    assert "no BERT checkpoint in" in err and "phase2" in err and "bert-train" in err
    assert not (tmp_path / "bert" / "export").exists()


def test_export_builds_tokenizer_when_vocab_stage_left_none(tmp_path, monkeypatch, tiny_model, small_vocab):
    from transformers import AutoTokenizer

    from norlm.cli import main
    from norlm.vocab.tokenizer import build_tokenizer

    (tmp_path / "vocab").mkdir()
    shutil.copyfile(small_vocab / "vocab.txt", tmp_path / "vocab" / "vocab.txt")
    _training_checkpoint(tmp_path / "bert" / "phase1", tiny_model, step=3)
    monkeypatch.setenv("NORLM_WORK", str(tmp_path))
    assert main(["bert-export", "--config", "demo"]) == 0
    hf = tmp_path / "bert" / "export" / "hf"
    assert json.loads((hf / "tokenizer.json").read_text()) == json.loads(
        build_tokenizer(small_vocab / "vocab.txt").to_str())
    text = "Øyafestivalen begynner endelig å ta klubbmusikk på alvor."
    assert AutoTokenizer.from_pretrained(hf)(text)["input_ids"] == build_tokenizer(hf / "vocab.txt").encode(text).ids
    assert "after **3** updates" in (hf / "README.md").read_text()  # phase 1 is the fallback


def test_export_refuses_nan_weights(tmp_path, monkeypatch, tiny_model, small_vocab, capsys):
    import numpy as np

    from norlm.bert.model import BertPretrainingModel
    from norlm.cli import main

    shutil.copytree(small_vocab, tmp_path / "vocab")
    broken = BertPretrainingModel(tiny_model.config)
    var = broken.variables_by_name()["bert/encoder/layer_1/output/dense/bias"]
    var.assign(np.full(var.shape, np.nan, np.float32))
    _training_checkpoint(tmp_path / "bert" / "phase2", broken, step=4)
    monkeypatch.setenv("NORLM_WORK", str(tmp_path))
    assert main(["bert-export", "--config", "demo"]) == 2
    err = capsys.readouterr().err
    assert "model.ckpt-4: 1 weights contain NaN/Inf (e.g. bert/encoder/layer_1/output/dense/bias)" in err
    assert not (tmp_path / "bert" / "export").exists()


def test_export_preflight_refuses_a_small_disk(work, tmp_path):
    """Too little room for the TF1 checkpoint and the safetensors: refused before writing, --force tries."""
    from tests.small_disk import error_lines, small_disk, temporaries

    with small_disk(tmp_path / "disk", "64k") as disk:
        proc = run_norlm("bert-export", "--config", "smoke", "--out", str(disk / "export"), work=work, check=False)
        assert proc.returncode == 2
        assert error_lines(proc.stderr)[0].startswith(
            f"norlm bert-export: error: {disk / 'export'}: not enough space: needs about ")
        assert "(TF1 checkpoint and safetensors of " in proc.stderr and not any(disk.rglob("*.safetensors"))
        forced = run_norlm("bert-export", "--config", "smoke", "--out", str(disk / "export"), "--force",
                           work=work, check=False)
        lines = error_lines(forced.stderr)
        assert forced.returncode == 2 and "Traceback" not in forced.stderr, forced.stderr
        assert len(lines) == 1 and lines[0].startswith(f"norlm bert-export: error: {disk / 'export'}: no space left")
        assert temporaries(disk) == []
