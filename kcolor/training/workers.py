"""This process's place among the workers of a training run, and what they agree on.

A run under `strategy=multiworker` runs the same command on every worker; one of them,
the chief (task `chief`, else `worker` 0), writes the run folder. The others must still
take part in every collective the chief runs (a checkpoint save, a gather), so any
decision that starts one, such as "a checkpoint is due", is taken by all together
(`any_worker`). Under one worker every question here has its local answer.

Example:
    workers = Workers(strategy)
    if workers.any_worker(time.perf_counter() - last_save > 600): ...
"""

import tensorflow as tf

from kcolor.errors import RunFolderError
from kcolor.training.strategy import is_chief


def count_workers(strategy):
    """Workers (chief and worker tasks) of `strategy`'s cluster; 1 without a cluster."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return 1
    spec = resolver.cluster_spec().as_dict() or {}
    return sum(len(spec.get(job, ())) for job in ("chief", "worker"))


def global_count(strategy, batch):
    """Images in this step over every replica of every worker.

    A worker holds only its own replicas' shares; the global count scales them up,
    which is exact when the batch splits evenly (training batches always do: they are
    batched with drop_remainder, in a multiple of the replicas).
    """
    local = strategy.experimental_local_results(batch["rgb"])
    count = sum(int(v.shape[0]) for v in local)
    return count * int(strategy.num_replicas_in_sync) // max(1, len(local))


class Workers:
    """The run's workers as seen from this one: is it the chief, how many are there."""

    def __init__(self, strategy):
        self.strategy = strategy
        self.chief = is_chief(strategy)
        self.num_workers = count_workers(strategy)

    def gather(self, value):
        """`value` (a float) of every replica of every worker, as a numpy array."""
        per_replica = self.strategy.run(lambda: tf.constant([float(value)], tf.float32))
        return self.strategy.gather(per_replica, axis=0).numpy()

    def any_worker(self, flag):
        """True when `flag` is true on any worker (each worker's clock differs; all must save together)."""
        if self.num_workers == 1:
            return bool(flag)
        return bool(self.gather(1.0 if flag else 0.0).max() > 0.5)

    def check_restored_alike(self, step, run_dir):
        """All workers must continue from the same `step` (they restore from the run folder)."""
        if self.num_workers == 1:
            return
        steps = self.gather(step)
        if steps.min() != steps.max():
            raise RunFolderError(
                f"The workers restored different steps ({int(steps.min())} to {int(steps.max())}; this one "
                f"{step}) from {run_dir}: every worker must read the same run folder (a path "
                "they all share, such as gs://...); use --set resume=restart or another run_dir"
            )


__all__ = ["Workers", "count_workers", "global_count"]
