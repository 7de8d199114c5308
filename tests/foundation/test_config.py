"""Config loading: TOML into frozen dataclasses, overrides, and errors that name key and file."""
from __future__ import annotations

import dataclasses

import pytest

from norlm.config import ConfigError, is_override, load_config, parse_override, to_dict, work_dir
from tests.conftest import REPO

CONFIGS = sorted((REPO / "configs").glob("*.toml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_every_shipped_config_loads(path):
    cfg = load_config(path)
    assert cfg.run.name == path.stem
    assert dataclasses.is_dataclass(cfg)
    assert to_dict(cfg)["run"]["name"] == path.stem


def test_frozen():
    cfg = load_config(REPO / "configs/demo.toml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.run.seed = 1


def test_overrides_typed_and_nested():
    cfg = load_config(REPO / "configs/demo.toml",
                      ["run.seed=7", "bert_data.phase1.dupe_factor=3", "bert_data.masked_lm_prob=0.2", "run.name=x"])
    assert cfg.run.seed == 7
    assert cfg.bert_data.phase1.dupe_factor == 3
    assert cfg.bert_data.masked_lm_prob == pytest.approx(0.2)
    assert cfg.run.name == "x"


def test_config_by_name():
    assert load_config("smoke").run.name == "smoke"


def test_unknown_key_names_key_and_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[run]\nname = "bad"\nsede = 3\n')
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert "run.sede" in str(err.value) and str(bad) in str(err.value)


def test_unknown_section(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[bertt]\nx = 1\n')
    with pytest.raises(ConfigError, match="unknown key 'bertt'"):
        load_config(bad)


def test_wrong_type_names_key_and_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[run]\nseed = "many"\n')
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert "run.seed" in str(err.value) and "integer" in str(err.value) and str(bad) in str(err.value)


def test_bad_override_type():
    with pytest.raises(ConfigError, match="run.workers"):
        load_config(REPO / "configs/demo.toml", ["run.workers=two"])


def test_bool_is_not_int(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[run]\nseed = true\n')
    with pytest.raises(ConfigError, match="run.seed"):
        load_config(bad)


def test_missing_file():
    with pytest.raises(ConfigError, match="not found"):
        load_config("/nonexistent/x.toml")


def test_override_parsing():
    assert parse_override("a.b=3") == ("a.b", 3)
    assert parse_override("a=1e-4") == ("a", 1e-4)
    assert parse_override("a=hello") == ("a", "hello")
    assert parse_override('a=["x", "y"]') == ("a", ["x", "y"])
    assert is_override("bert.learning_rate=1e-4")
    assert not is_override("--lr=3") and not is_override("data/a=b.txt") and not is_override("file.txt")


def test_work_dir(monkeypatch):
    cfg = load_config(REPO / "configs/demo.toml")
    monkeypatch.delenv("NORLM_WORK", raising=False)
    assert str(work_dir(cfg)) == "work/demo"
    monkeypatch.setenv("NORLM_WORK", "/tmp/w")
    assert str(work_dir(cfg)) == "/tmp/w"


def test_choice_rejected_at_load_with_allowed_values():
    with pytest.raises(ConfigError) as info:
        load_config("configs/demo.toml", ['bert.precision="fp17"'])
    text = str(info.value)
    assert "configs/demo.toml" in text and "'bert.precision'" in text and "'fp17'" in text
    assert "allowed values: 'fp32', 'fp16', 'bf16'" in text


def test_cli_reports_bad_choice_before_the_stage_runs(capsys):
    from norlm.cli import main

    assert main(["bert-train", "--config", "smoke", 'bert.precision="fp17"']) == 2
    err = capsys.readouterr().err
    assert "norlm bert-train: config error" in err and "allowed values: 'fp32', 'fp16', 'bf16'" in err


def test_range_checks_of_settings_run_at_load():
    with pytest.raises(ConfigError, match=r"\[bert_data\] key 'files_per_shard' must be at least 1, got 0"):
        load_config("configs/demo.toml", ["bert_data.files_per_shard=0"])
    with pytest.raises(ConfigError, match=r"\[vocab\] key 'character_coverage' must be in \(0, 1\]"):
        load_config("configs/demo.toml", ["vocab.character_coverage=1.5"])
    with pytest.raises(ConfigError, match=r"'run.engine' has value 'mpi'; allowed values: 'auto', 'horovod'"):
        load_config("configs/demo.toml", ['run.engine="mpi"'])
