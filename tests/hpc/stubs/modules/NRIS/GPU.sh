# NRIS/GPU on Olivia: the GPU software stack (NeoverseV2 builds); nothing the tests need
export NORLM_STUB_STACK=NRIS/GPU
