#!/usr/bin/env bash
# The TensorFlow line matrix: for each line (default 2.16 ... 2.21 and 2.22rc0) build its venv
# (scripts/setup-tf.sh: Python 3.12, tensorflow-cpu of the line, no Horovod), run the smoke chain, the
# BERT and ELMo tf-distribute equivalence tests and the export parity tests, and record the result in
# requirements/routes/results.tsv and README's support matrix.  A failing line does not stop the rest.
#
#   scripts/tf-matrix.sh                  every line (about 10 minutes each on 2 idle cores)
#   scripts/tf-matrix.sh 2.19 2.22rc0     some
set -uo pipefail
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
export NORLM_SMOKE_TIMEOUT=${NORLM_SMOKE_TIMEOUT:-2400}  # the smoke chain on 2 cores shared with other work
cd "$(dirname "$0")/.."
LINES=${*:-2.16 2.17 2.18 2.19 2.20 2.21 2.22rc0}
MW=tests/multiworker
TESTS="tests/test_smoke_chain.py
  $MW/test_bert_train.py::test_tf_distribute_two_workers_equal_one_process_with_double_batch
  $MW/test_elmo_train.py::test_tf_distribute_two_workers_equal_one_process_with_double_batch
  tests/bert/interop/test_export_tf1.py tests/elmo/test_export.py tests/elmo/test_simple_elmo.py"
failed=""
for tf in $LINES; do
    TF=$tf scripts/setup-tf.sh || { failed="$failed $tf(setup)"; continue; }
    junit=$(mktemp /tmp/norlm-tf-XXXXXX.xml)
    start=$(date +%s)
    # shellcheck disable=SC2086
    ".venv-tf$tf/bin/python" -m pytest -p no:cacheprovider $TESTS -k "not converter_walk and not walk_crashes and not loads_in_transformers" \
        --junitxml="$junit" ${PYTEST_ARGS:-} || failed="$failed $tf"
    ".venv-tf$tf/bin/python" scripts/support_matrix.py record tf "$tf" tf-distribute "$junit" $(( $(date +%s) - start ))
    rm -f "$junit"
done
python3 scripts/support_matrix.py readme
[ -z "$failed" ] || { echo "[tf-matrix] failed:$failed" >&2; exit 1; }
echo "[tf-matrix] every line passed: $LINES"
