"""Baseline for bench/elmo_train.py: the TF1 bilm-tf/SET training graph, as shipped in simple_elmo 0.9.2.

Run by bench/elmo_train.py in a child process (needs TF_USE_LEGACY_KERAS=1).  Builds one tower of
`simple_elmo.training.LanguageModel(options, is_training=True)` with bilm-tf's optimiser set-up
(AdagradOptimizer 0.2 / 1.0, gradients of loss × unroll_steps with EXPERIMENTAL_TREE,
average_gradients, clip_grads) and times session steps fed with random batches and carried state.
Prints one JSON line: {"tokens_per_s": ..., "steps": ...}.
Usage: python elmo_tf1_baseline.py OPTIONS.json STEPS WARMUP [THREADS [BATCHES.npz [INTRA_OP_THREADS]]]
(BATCHES.npz: the arrays chars / chars_reverse / targets / targets_reverse of bench/elmo_train.py, cycled.)
"""
import json
import sys
import time

import numpy as np
import tensorflow as tf
from simple_elmo import training as set_training

options = json.load(open(sys.argv[1]))
steps, warmup = int(sys.argv[2]), int(sys.argv[3])
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 0
batches = dict(np.load(sys.argv[5])) if len(sys.argv) > 5 else None
intra = int(sys.argv[6]) if len(sys.argv) > 6 else threads  # intra-op threads (default: as many as inter-op)
tf.compat.v1.disable_eager_execution()
b, t, v = options["batch_size"], options["unroll_steps"], options["n_tokens_vocab"]
c = options["char_cnn"]["max_characters_per_token"]
with tf.device("/cpu:0"):
    global_step = tf.compat.v1.get_variable("global_step", [], initializer=tf.compat.v1.constant_initializer(0),
                                            trainable=False)
    opt = tf.compat.v1.train.AdagradOptimizer(learning_rate=0.2, initial_accumulator_value=1.0)
    with tf.compat.v1.variable_scope("lm"):
        model = set_training.LanguageModel(options, True)
        grads = opt.compute_gradients(model.total_loss * t, aggregation_method=tf.AggregationMethod.EXPERIMENTAL_TREE)
    grads = set_training.average_gradients([grads], b, options)
    grads, _ = set_training.clip_grads(grads, options, False, global_step)
    train_op = opt.apply_gradients(grads, global_step=global_step)
rng = np.random.default_rng(0)
session_config = tf.compat.v1.ConfigProto(allow_soft_placement=True, intra_op_parallelism_threads=intra,
                                          inter_op_parallelism_threads=threads)
with tf.compat.v1.Session(config=session_config) as sess:
    sess.run(tf.compat.v1.global_variables_initializer())
    zero_feed = {model.tokens_characters: np.zeros([b, t, c], np.int32),
                 model.tokens_characters_reverse: np.zeros([b, t, c], np.int32)}
    state = sess.run(model.init_lstm_state, feed_dict=zero_feed)
    elapsed = 0.0
    for step in range(warmup + steps):
        if batches is not None:
            k = step % len(batches["chars"])
            feed = {model.tokens_characters: batches["chars"][k],
                    model.tokens_characters_reverse: batches["chars_reverse"][k],
                    model.next_token_id: batches["targets"][k],
                    model.next_token_id_reverse: batches["targets_reverse"][k]}
        else:
            feed = {model.tokens_characters: rng.integers(0, 261, (b, t, c), dtype=np.int32),
                    model.tokens_characters_reverse: rng.integers(0, 261, (b, t, c), dtype=np.int32),
                    model.next_token_id: rng.integers(0, v, (b, t), dtype=np.int32),
                    model.next_token_id_reverse: rng.integers(0, v, (b, t), dtype=np.int32)}
        feed.update(dict(zip(model.init_lstm_state, state)))
        t0 = time.time()
        _, _, state = sess.run([train_op, model.total_loss, model.final_lstm_state], feed_dict=feed)
        if step >= warmup:
            elapsed += time.time() - t0
print(json.dumps({"tokens_per_s": 2 * b * t * steps / elapsed, "steps": steps, "seconds": elapsed}))
