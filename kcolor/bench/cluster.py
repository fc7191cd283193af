"""A local `MultiWorkerMirroredStrategy` cluster: N worker processes on 127.0.0.1.

Each worker is a separate Python process with its own `TF_CONFIG`, as TensorFlow's
multi-worker guide describes it for several machines:

    {"cluster": {"worker": ["127.0.0.1:PORT0", "127.0.0.1:PORT1"]},
     "task": {"type": "worker", "index": I}}

Worker 0 is the chief (the cluster has no `chief` task). Ports are picked free by the
operating system. Every worker starts in its own process group, and `run_local_cluster`
always kills every group before it returns or raises (a timeout, a failed worker, an
interrupt), so no worker outlives it. The multi-worker test and `make bench`'s
"1 against 2 workers" row both use it; it is test machinery, not training, so it lives
in the bench (the top floor), outside `kcolor.training`. TensorFlow-free: it only starts
processes.

Example:
    results = run_local_cluster([sys.executable, "-c", SCRIPT], workers=2, timeout=300)
    assert all(r.returncode == 0 for r in results)
"""

import dataclasses
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

from kcolor.errors import KcolorError


class ClusterError(KcolorError):
    """A local cluster's worker failed or ran past its time limit."""


@dataclasses.dataclass
class WorkerResult:
    index: int
    returncode: int
    stdout: str
    stderr: str


def free_ports(count, host="127.0.0.1") -> list:
    """`count` distinct TCP ports that were free a moment ago (bound with port 0, then closed)."""
    sockets, ports = [], []
    try:
        for _ in range(int(count)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, 0))
            sockets.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in sockets:
            s.close()
    return ports


def tf_config(addresses, index, task_type="worker") -> str:
    """The `TF_CONFIG` of task `index` of a cluster of `worker` tasks at `addresses`."""
    return json.dumps({"cluster": {"worker": list(addresses)}, "task": {"type": task_type, "index": int(index)}})


def _kill_group(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def run_local_cluster(command, *, workers=2, timeout=600, env=None, host="127.0.0.1", cwd=None) -> list:
    """Run `command` as `workers` local worker processes; wait at most `timeout` seconds.

    Args:
        command: the argv list every worker runs (each gets its own `TF_CONFIG`).
        workers: number of worker processes (>= 1).
        timeout: seconds for the whole cluster; then every worker is killed.
        env: base environment (default `os.environ`); `TF_CONFIG` is set per worker.
        host: the address the workers bind to.
        cwd: working directory of the workers.

    Returns:
        a `WorkerResult` per worker, in task order.

    Raises:
        ClusterError: a worker exited with an error (the others are killed at once; a
            worker left alone would wait on its peer's collectives), or the cluster ran
            past `timeout`. The message holds each worker's exit status and last log lines.
    """
    workers = int(workers)
    if workers < 1:
        raise ValueError(f"A local cluster needs at least one worker. Received: workers={workers}")
    addresses = [f"{host}:{port}" for port in free_ports(workers, host)]
    base = dict(os.environ if env is None else env)
    procs, logs = [], []
    try:
        for index in range(workers):
            out = tempfile.TemporaryFile(mode="w+t")
            err = tempfile.TemporaryFile(mode="w+t")
            logs.append((out, err))
            procs.append(
                subprocess.Popen(
                    command, env={**base, "TF_CONFIG": tf_config(addresses, index)}, stdout=out, stderr=err,
                    cwd=cwd, start_new_session=True,  # its own process group: killed as a whole
                )
            )
        deadline = time.monotonic() + float(timeout)
        failed = None
        while any(p.poll() is None for p in procs):
            failed = next((i for i, p in enumerate(procs) if p.poll() not in (None, 0)), None)
            if failed is not None or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        timed_out = failed is None and any(p.poll() is None for p in procs)
    finally:
        for proc in procs:
            _kill_group(proc)
        results = []
        for index, (proc, (out, err)) in enumerate(zip(procs, logs)):
            out.seek(0)
            err.seek(0)
            results.append(WorkerResult(index, proc.returncode, out.read(), err.read()))
            out.close()
            err.close()
    if timed_out or failed is not None or any(r.returncode != 0 for r in results):
        what = f"ran past {timeout} s" if timed_out else f"worker {failed} failed"
        detail = "; ".join(
            f"worker {r.index} exit {r.returncode}: " + " | ".join((r.stderr or r.stdout).strip().splitlines()[-6:])
            for r in results
        )
        raise ClusterError(f"Local cluster of {workers} workers {what} ({detail})")
    return results


__all__ = ["ClusterError", "WorkerResult", "free_ports", "run_local_cluster", "tf_config"]
