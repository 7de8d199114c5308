# python-tensorflow/2.21 on Roihu: puts a TensorFlow Python first on PATH (here the test venv's)
export PATH="$NORLM_STUB_PYTHON_BIN:$PATH"
export NORLM_STUB_STACK=python-tensorflow/2.21
