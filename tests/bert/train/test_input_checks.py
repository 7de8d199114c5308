"""Bad input is refused before training, naming both values; a non-finite loss stops with the step."""
from __future__ import annotations

import json


from .synth import SEQ, SMOKE, VOCAB
from norlm.cli import main as cli_main


def run(monkeypatch, work, *extra):
    monkeypatch.setenv("NORLM_WORK", str(work))
    return cli_main(["bert-train", *SMOKE, "--phase", "1", *extra])


def test_vocab_size_mismatch_with_config_refused(small_work, tmp_path, monkeypatch, capsys):
    cfg = json.loads(open("configs/bert/smoke.json").read())
    cfg["vocab_size"] = VOCAB + 7
    path = tmp_path / "model.json"
    path.write_text(json.dumps(cfg))
    code = run(monkeypatch, small_work, f"bert.model_config={path}", "bert.vocab_size_from=config")
    err = capsys.readouterr().err
    assert code == 2
    assert "norlm bert-train: error: vocab_size mismatch" in err
    assert f"{path} says vocab_size {VOCAB + 7}" in err
    assert f"{small_work / 'bert/tfrecords/phase1/manifest.json'} has {VOCAB} entries" in err
    assert not (small_work / "bert/phase1/final.json").exists()


def test_vocab_edited_after_bert_data_refused(small_work, monkeypatch, capsys):
    vocab = small_work / "vocab/vocab.txt"
    lines = vocab.read_text().splitlines()
    lines[10], lines[11] = lines[11], lines[10]  # same size, two entries swapped: every id still fits
    vocab.write_text("\n".join(lines) + "\n")
    code = run(monkeypatch, small_work)
    err = capsys.readouterr().err
    assert code == 2
    assert "vocabulary mismatch" in err and str(vocab) in err
    assert str(small_work / "bert/tfrecords/phase1/manifest.json") in err
    assert not (small_work / "bert/phase1").exists()


def test_token_ids_beyond_vocab_refused(small_work, monkeypatch, capsys):
    (small_work / "vocab/vocab.txt").write_text("".join(f"t{i}\n" for i in range(50)))
    code = run(monkeypatch, small_work)
    err = capsys.readouterr().err
    assert code == 2 and "vocabulary mismatch" in err  # the manifest's sha256 catches it first
    (small_work / "bert/tfrecords/phase1/manifest.json").unlink()
    code = run(monkeypatch, small_work)
    err = capsys.readouterr().err
    assert code == 2 and "vocab_size 50" in err and "token id" in err  # the records themselves


def test_sequence_length_mismatch_refused(small_work, monkeypatch, capsys):
    code = run(monkeypatch, small_work, "bert_data.phase1.max_seq_length=64")
    err = capsys.readouterr().err
    assert code == 2
    assert "max_seq_length mismatch" in err and "manifest.json says 32" in err and "says 64" in err


def test_sequence_longer_than_position_table_refused(small_work, tmp_path, monkeypatch, capsys):
    cfg = json.loads(open("configs/bert/smoke.json").read())
    cfg["max_position_embeddings"] = 16
    path = tmp_path / "model.json"
    path.write_text(json.dumps(cfg))
    code = run(monkeypatch, small_work, f"bert.model_config={path}")
    err = capsys.readouterr().err
    assert code == 2 and f"max_seq_length {SEQ} exceeds max_position_embeddings 16" in err


def test_nonfinite_loss_stops_and_keeps_last_good_checkpoint(small_work, monkeypatch, capsys):
    # an absurd learning rate blows the weights to inf by the second update
    code = run(monkeypatch, small_work, "bert.phase1.learning_rate=1e30", "bert.phase1.warmup_steps=0",
               "bert.save_checkpoints_steps=1")
    err = capsys.readouterr().err
    out_dir = small_work / "bert/phase1"
    assert code == 3
    assert "non-finite" in err and "at update 2" in err and "model.ckpt-1" in err
    assert (out_dir / "model.ckpt-1.index").exists() and not (out_dir / "model.ckpt-2.index").exists()
    assert not (out_dir / "final.json").exists()
