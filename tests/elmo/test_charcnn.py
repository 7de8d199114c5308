"""The trimmed, sparse-backward char CNN computes what plain convolutions + max pooling compute."""
import numpy as np
import pytest
import tensorflow as tf

from norlm.elmo.charcnn import max_pooled_convolutions, trimmed_width
from norlm.elmo.chars import N_TRAIN_CHARS, PAD, word_char_ids

WORDS = ["og", "i", "Norge", "forskningsinstitusjonene", "på", "og", "<S>", "æøå", "i"]  # trimmed to 30 columns
LONG = WORDS + ["x" * 60]  # a cut 48-byte word: no trimming


def reference(table, kernels, ids):
    """The old path: every column, conv2d, max over positions, autodiff."""
    emb = tf.nn.embedding_lookup(table, ids[:, None, :])
    return [tf.reduce_max(tf.nn.conv2d(emb, k, strides=1, padding="VALID")[:, 0], axis=1) for k in kernels]


def case(words, shifted):
    rng = np.random.default_rng(3)
    ids = np.stack([word_char_ids(w, 50) for w in words]).astype(np.int32)
    rows = N_TRAIN_CHARS
    if shifted:
        ids = np.concatenate([ids + 1, np.zeros((2, 50), np.int32)])  # two empty (no-token) rows
        rows += 1
    table = tf.constant(rng.uniform(-1, 1, (rows, 16)), tf.float32)
    kernels = [tf.constant(rng.normal(0, 0.3, (1, w, 16, n)), tf.float32) for w, n in ((1, 8), (2, 8), (4, 16))]
    if shifted:
        table = tf.concat([tf.zeros([1, 16]), table[1:]], 0)
    return table, kernels, tf.constant(ids)


@pytest.mark.parametrize("shifted", [False, True])
@pytest.mark.parametrize("words", [WORDS, LONG], ids=["trimmed", "full"])
def test_forward_equals_full_width_and_gradients_equal_autodiff(words, shifted):
    table, kernels, ids = case(words, shifted)
    fillers = (PAD + 1, 0) if shifted else (PAD,)
    results = []
    for fn in (lambda t, ks: reference(t, ks, ids), lambda t, ks: max_pooled_convolutions(t, ks, ids, fillers)):
        with tf.GradientTape() as tape:
            tape.watch([table, *kernels])
            outs = fn(table, kernels)
            loss = sum(tf.reduce_sum(o * tf.cast(tf.range(o.shape[1]) - 3, tf.float32)) for o in outs)
        results.append((outs, tape.gradient(loss, [table, *kernels])))
    (ref_out, ref_grads), (out, grads) = results
    for a, b in zip(out, ref_out):
        np.testing.assert_array_equal(a.numpy(), b.numpy())  # the max of the same window values
    assert float(tf.reduce_max(tf.abs(tf.convert_to_tensor(ref_grads[0])))) > 0.1
    for a, b in zip(grads, ref_grads):
        np.testing.assert_allclose(tf.convert_to_tensor(a).numpy(), tf.convert_to_tensor(b).numpy(),
                                   rtol=1e-5, atol=1e-5)


def test_rows_are_trimmed_to_the_longest_token_plus_the_widest_filter():
    ids = tf.constant(np.stack([word_char_ids(w, 50) for w in ["og", "Norge"]]))
    assert int(trimmed_width(ids, (PAD,), 4)) == len("Norge") + 2 + 4
    assert int(trimmed_width(tf.constant(np.stack([word_char_ids("x" * 60, 50)])), (PAD,), 4)) == 50
    shifted = tf.concat([ids + 1, tf.zeros([3, 50], tf.int32)], 0)
    assert int(trimmed_width(shifted, (PAD + 1, 0), 2)) == len("Norge") + 2 + 2


@pytest.mark.parametrize("n_rows", [1, 3])
def test_few_rows_leave_groups_empty_and_still_match(n_rows):
    table, kernels, ids = case(WORDS[:n_rows], False)
    out = max_pooled_convolutions(table, kernels, ids, (PAD,))
    for a, b in zip(out, reference(table, kernels, ids)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_elmo_train_sets_the_configured_cpu_threads():
    """[elmo] intra_op_threads / inter_op_threads reach TensorFlow (in a fresh process: they only apply
    before the runtime starts)."""
    import subprocess
    import sys

    from norlm.elmo.settings import ElmoConfig

    assert ElmoConfig().intra_op_threads == 0  # the default leaves TensorFlow's own choice
    code = ("import tensorflow as tf; from dataclasses import replace; from norlm.elmo.settings import ElmoConfig; "
            "from norlm.elmo.train import set_cpu_threads; "
            "set_cpu_threads(replace(ElmoConfig(), intra_op_threads=1, inter_op_threads=3)); tf.constant(1) + 1; "
            "print(tf.config.threading.get_intra_op_parallelism_threads(), "
            "tf.config.threading.get_inter_op_parallelism_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "3"]
