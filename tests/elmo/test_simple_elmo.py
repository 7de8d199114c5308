"""External client: simple_elmo 0.9.2 loads our export (folder, NLPL zip, TF1 checkpoint, 1-layer model)
and its vectors equal our elmo-embed within 1e-5; a wrong gate order breaks the match (negative control)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from norlm.elmo import model as model_module
from norlm.elmo.embed import ElmoEmbedder
from tests.conftest import norlm_env
from tests.elmo.test_export import write_random_export

SENTENCES = [
    ["Blåbærsyltetøy", "er", "godt", "på", "vaffel", "i", "Tromsø", "og", "Ålesund", "."],
    ["Ordet", "a" * 10 + "æ" * 10 + "b" * 10 + "ø" * 10 + "c" * 10 + "å" * 10 + "d" * 10, "er", "langt", "."],
    ["Qzxvjwykk", "finnes", "ikke", "i", "ordboka", "."],
    ["Hei"],
]
LAYERS = ("all", "average", "top")


def max_diff(ours: np.ndarray, theirs: np.ndarray) -> float:
    """Largest difference over real word positions (simple_elmo leaves padding unmasked)."""
    worst = 0.0
    for i, sent in enumerate(SENTENCES):
        n = len(sent)
        worst = max(worst, float(np.abs(ours[i][..., :n, :] - theirs[i][..., :n, :]).max()))
    return worst


@pytest.fixture(scope="module")
def simple_elmo_vectors(smoke_run, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("simple_elmo")
    one_layer = write_random_export(tmp / "one_layer", n_layers=1, seed=4, lstm_std=0.9)
    export = smoke_run / "elmo" / "export"
    models = [f"{export}#full", str(export / "smoke-elmo.zip"), str(one_layer)]
    (tmp / "sentences.json").write_text(json.dumps(SENTENCES, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run([sys.executable, __file__.replace("test_simple_elmo.py", "simple_elmo_client.py"),
                           str(tmp / "sentences.json"), str(tmp / "out.npz"), *models],
                          env=norlm_env(TF_USE_LEGACY_KERAS="1"), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with np.load(tmp / "out.npz") as npz:
        return {"models": [m.split("#")[0] for m in models], **{k: npz[k] for k in npz.files}}


def test_simple_elmo_equals_elmo_embed(simple_elmo_vectors):
    assert "ø" in SENTENCES[0][0] and len(SENTENCES[1][1]) == 70 and len(SENTENCES[3]) == 1
    for k, path in enumerate(simple_elmo_vectors["models"]):
        ours = ElmoEmbedder(path)
        for layers in LAYERS:
            theirs = simple_elmo_vectors[f"{k}/{layers}"]
            mine = ours.embed(SENTENCES, layers=layers)
            assert mine.shape == theirs.shape, (path, layers)
            assert max_diff(mine, theirs) < 1e-5, (path, layers, max_diff(mine, theirs))
            assert np.abs(theirs).max() > 0.03  # real signal, not zeros
        assert (mine[3, 1:] == 0).all()  # our padding is zeros
    assert simple_elmo_vectors["0/all"].shape == (4, 3, 10, 32)
    assert simple_elmo_vectors["2/all"].shape == (4, 2, 10, 16)  # 1-layer model: embedding + 1 LSTM layer


def test_full_mode_loads_tf1_checkpoint(simple_elmo_vectors, smoke_run):
    subs = json.loads(str(simple_elmo_vectors["0/substitutes"]))
    vocab = (smoke_run / "elmo" / "export" / "vocab.txt").read_text(encoding="utf-8").splitlines()
    first = subs[0][0]
    assert len(first["forward"]["candidate_words"]) == 3
    assert all(w in vocab for w in first["forward"]["candidate_words"] + first["backward"]["candidate_words"])


def test_wrong_gate_order_breaks_parity(simple_elmo_vectors, monkeypatch):
    monkeypatch.setattr(model_module, "GATE_ORDER", "ifjo")  # Keras-style i, f, c, o
    wrong = ElmoEmbedder(simple_elmo_vectors["models"][0]).embed(SENTENCES, layers="top")
    assert max_diff(wrong, simple_elmo_vectors["0/top"]) > 1e-2
