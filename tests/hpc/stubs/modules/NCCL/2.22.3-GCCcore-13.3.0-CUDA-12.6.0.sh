# NCCL on Olivia: EasyBuild roots of NCCL and of the aws-ofi-nccl it loads (the image binds their
# lib/), and one variable standing for the FI_CXI_* ones the real module sets (Sigma2 olivia/nccl.md)
export EBROOTNCCL="$NORLM_STUB_ROOT/nccl/2.22.3"
export EBROOTAWSMINOFIMINNCCL="$NORLM_STUB_ROOT/aws-ofi-nccl/1.14.0"
export FI_CXI_STUB_FROM_NCCL_MODULE=1
