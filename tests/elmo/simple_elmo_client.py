"""Run simple_elmo 0.9.2 on models (folders or zips) and save its vectors; executed in a subprocess.

Usage: python simple_elmo_client.py SENTENCES.json OUT.npz MODEL [MODEL ...]
A MODEL ending in "#full" is also loaded with full=True (TF1 checkpoint) for get_elmo_substitutes.
Needs TF_USE_LEGACY_KERAS=1 (simple_elmo uses tf.compat.v1 LSTMCell from Keras 2).
"""
import json
import sys

import numpy as np
import tensorflow as tf
from simple_elmo import ElmoModel

sentences_path, out_path, *models = sys.argv[1:]
with open(sentences_path, encoding="utf-8") as fh:
    sentences = json.load(fh)
result = {}
for k, spec in enumerate(models):
    path = spec.split("#")[0]
    for layers in ("all", "average", "top"):
        tf.compat.v1.reset_default_graph()  # fresh graph and session per call: zero LSTM state
        model = ElmoModel()
        model.load(path, max_batch_size=len(sentences))
        result[f"{k}/{layers}"] = model.get_elmo_vectors(sentences, warmup=False, layers=layers)
    if spec.endswith("#full"):
        tf.compat.v1.reset_default_graph()
        lm = ElmoModel()
        lm.load(path, max_batch_size=1, full=True)
        subs = lm.get_elmo_substitutes([" ".join(sentences[0])], topn=3)
        result[f"{k}/substitutes"] = np.array(json.dumps(subs, default=str))
np.savez(out_path, **result)
