"""Test launcher for the tf-distribute engine without Slurm: `python tf_launch.py N CMD...` starts N
copies of CMD with a TF_CONFIG each (free loopback ports), merges their output, passes SIGTERM/SIGUSR1
on to every worker (as srun does) and exits with the first non-zero worker code once all have ended.
It never kills a worker itself: the fail-fast tests check that the workers stop on their own."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def main() -> int:
    n, cmd = int(sys.argv[1]), sys.argv[2:]
    workers = [f"localhost:{p}" for p in free_ports(n)]
    procs = []
    for i in range(n):
        env = dict(os.environ, NORLM_LAUNCH_RANK=str(i),
                   TF_CONFIG=json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}}))
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))

    def forward(signum, frame):
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGUSR1):
        signal.signal(sig, forward)
    lock = threading.Lock()

    def pump(i: int, p: subprocess.Popen) -> None:
        for line in p.stdout:
            with lock:
                sys.stdout.write(line)
                sys.stdout.flush()

    threads = [threading.Thread(target=pump, args=(i, p), daemon=True) for i, p in enumerate(procs)]
    for t in threads:
        t.start()
    codes = [p.wait() for p in procs]
    for t in threads:
        t.join(timeout=5)
    for i, c in enumerate(codes):
        print(f"[tf_launch] worker {i} exit code {c}", flush=True)
    return next((c if c > 0 else 128 - c for c in codes if c != 0), 0)


if __name__ == "__main__":
    sys.exit(main())
