"""Run under a launcher: exercise norlm.dist collectives and print one JSON line per rank."""
import json
import os
import sys

import tensorflow as tf

from norlm import dist

dist.init()
r, n = dist.rank(), dist.size()
total = dist.allreduce(tf.constant([float(r + 1)] * 4), op="sum")
mean = dist.allreduce(tf.constant([float(r + 1)] * 4), op="mean")
var = tf.Variable([float(r)] * 3)
dist.broadcast_variables([var], root=0)
obj = dist.broadcast_object({"from": r}, root=0)
gathered = dist.allgather_object(r * 10)
dist.barrier()
result = json.dumps({
    "rank": r, "size": n, "controller": dist.controller(), "sum": total.numpy().tolist(),
    "mean": mean.numpy().tolist(), "bcast_var": var.numpy().tolist(), "bcast_obj": obj,
    "gathered": gathered, "split": dist.split(list(range(5))),
})
# one file per rank: launchers interleave the ranks' stdout, so lines could mix
with open(os.path.join(sys.argv[1], f"rank{r}.json"), "w") as fh:
    fh.write(result)
