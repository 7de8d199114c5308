"""Model selection keeps the best dev epoch's weights; frozen-feature classifiers learn and repeat."""
from __future__ import annotations

import zlib

import numpy as np
import tensorflow as tf

from norlm.evaluate.elmo_probe import featurise, run_elmo
from norlm.evaluate.readers import LabelledText, TaggedSentence
from norlm.evaluate.task_scorers import Example
from norlm.evaluate.settings import ElmoProtocol
from norlm.evaluate.tasks import TaskData
from norlm.evaluate.training import Learner, fit


def test_fit_restores_the_best_dev_epoch_before_scoring_test():
    w = tf.Variable(0.0)
    dev_by_epoch = {1.0: 0.2, 2.0: 0.9, 3.0: 0.5}

    def predict(examples):
        return [float(w.numpy())] * len(examples)

    def score(examples, preds):
        return {"score": dev_by_epoch.get(preds[0], -1.0), "weight": preds[0]}

    def collate(ex):
        return ex

    # the "training" of an epoch moves w by one; with one batch per epoch w == epoch number
    def one_batch_epoch(batch):
        w.assign_add(1.0)
        return 0.5

    learner = Learner([w], one_batch_epoch, predict, collate)
    data = [Example("g")]
    result = fit(learner, data, data, data, epochs=3, batch_size=8, score=score, seed=0)
    assert result.best_epoch == 2
    assert result.test["weight"] == 2.0  # test scored with epoch 2's weights, not the last ones
    assert float(w.numpy()) == 2.0
    assert [c["dev"] for c in result.curve] == [0.2, 0.9, 0.5]


class FakeEmbedder:
    """Deterministic 'contextual' vectors: a word's vector encodes its label plus noise."""

    def __init__(self, lexicon: dict[str, int], dim: int = 6):
        self.lexicon, self.dim = lexicon, dim
        self.calls = 0

    def embed(self, sentences, layers="average"):
        self.calls += 1
        width = max(len(s) for s in sentences)
        out = np.zeros((len(sentences), width, self.dim), np.float32)
        for i, sent in enumerate(sentences):
            for j, word in enumerate(sent):
                rng = np.random.default_rng(zlib.crc32(word.encode()))
                out[i, j] = rng.normal(scale=0.3, size=self.dim)
                out[i, j, self.lexicon.get(word, 0)] += 2.0
        return out


def test_elmo_probe_token_task_learns_and_is_deterministic():
    rng = np.random.default_rng(0)
    vocab = {"hund": 1, "løper": 2, ".": 3, "katt": 1}
    tags = {1: "NOUN", 2: "VERB", 3: "PUNCT"}
    words = list(vocab)

    def sent():
        ws = [words[k] for k in rng.integers(0, len(words), size=rng.integers(2, 7))]
        return TaggedSentence(ws, [tags[vocab[w]] for w in ws])

    task = TaskData("pos", "nob", [sent() for _ in range(60)], [sent() for _ in range(20)], [sent() for _ in range(20)],
                    ["NOUN", "PUNCT", "VERB"], "demo")
    embedder = FakeEmbedder(vocab)
    splits, seconds = featurise(embedder, task, batch_size=16)
    assert splits["train"][0].inputs["x"].shape == (len(task.train[0].words), 6)
    protocol = ElmoProtocol(hidden=16, epochs=5, batch_size=8, learning_rate=0.01)
    first, facts = run_elmo(splits, task, protocol, seed=1, desc="t")
    again, _ = run_elmo(splits, task, protocol, seed=1, desc="t")
    assert first.test["accuracy"] > 0.95
    assert first.test == again.test and first.curve[-1]["train_loss"] == again.curve[-1]["train_loss"]
    assert facts["classifier"] == "ffn" and facts["elmo_layers"] == "average"


def test_elmo_probe_sentence_task_bilstm_learns():
    rng = np.random.default_rng(0)
    lexicon = {"god": 1, "flott": 1, "dårlig": 2, "kjedelig": 2, "film": 0, "er": 0}
    pos, neg, filler = ["god", "flott"], ["dårlig", "kjedelig"], ["film", "er"]

    def item():
        label = "positive" if rng.random() < 0.5 else "negative"
        ws = list(rng.choice(filler, size=rng.integers(1, 5))) + [rng.choice(pos if label == "positive" else neg)]
        rng.shuffle(ws)
        return LabelledText([str(w) for w in ws], label)

    task = TaskData("sentiment", "nob", [item() for _ in range(80)], [item() for _ in range(30)],
                    [item() for _ in range(30)], ["negative", "positive"], "paper")
    splits, _ = featurise(FakeEmbedder(lexicon), task, batch_size=32)
    result, facts = run_elmo(splits, task, ElmoProtocol(lstm_hidden=8, epochs=8, batch_size=16, learning_rate=0.02),
                             seed=3, desc="t")
    assert result.test["f1"] > 0.9
    assert facts["classifier"] == "bilstm-maxpool" and facts["elmo_layers"] == "top"


def test_length_buckets_cover_every_example_once_and_pad_less():
    from norlm.evaluate.training import batches

    rng_lengths = np.random.default_rng(5).integers(1, 200, size=1000).tolist()
    plain = batches(1000, 32, np.random.default_rng(0))
    bucketed = batches(1000, 32, np.random.default_rng(0), rng_lengths)
    assert sorted(np.concatenate(bucketed).tolist()) == list(range(1000))
    assert all(len(b) <= 32 for b in bucketed)

    def padded(bs):
        return sum(len(b) * max(rng_lengths[i] for i in b) for b in bs)

    assert padded(bucketed) < 0.7 * padded(plain)
