"""Run under a launcher: exercise norlm.engines collectives and print one JSON line per rank."""
import json
import os
import sys

import tensorflow as tf

from norlm import engines

engines.init()
r, n = engines.rank(), engines.size()
total = engines.allreduce(tf.constant([float(r + 1)] * 4), op="sum")
mean = engines.allreduce(tf.constant([float(r + 1)] * 4), op="mean")
var = tf.Variable([float(r)] * 3)
engines.broadcast_variables([var], root=0)
obj = engines.broadcast_object({"from": r}, root=0)
gathered = engines.allgather_object(r * 10)
engines.barrier()
result = json.dumps({
    "rank": r, "size": n, "controller": engines.controller(), "sum": total.numpy().tolist(),
    "mean": mean.numpy().tolist(), "bcast_var": var.numpy().tolist(), "bcast_obj": obj,
    "gathered": gathered, "split": engines.split(list(range(5))),
})
# one file per rank: launchers interleave the ranks' stdout, so lines could mix
with open(os.path.join(sys.argv[1], f"rank{r}.json"), "w") as fh:
    fh.write(result)
