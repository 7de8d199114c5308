-- Stand-in for the EasyBuild NorLM module on the test Slurm: the cluster scripts run unchanged
-- (`module load NorLM/...`) with this repository's .venv instead of the module stack.
help([[NorLM test stub: puts the repository's .venv on PATH]])
local repo = myFileName():match("^(.*)/recipes/local/modules/")
local venv = os.getenv("NORLM_VENV") or pathJoin(repo, ".venv")
prepend_path("PATH", pathJoin(venv, "bin"))
setenv("EBROOTNORLM", repo)
setenv("TF_CPP_MIN_LOG_LEVEL", "2")
