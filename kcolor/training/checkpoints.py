"""A training run's checkpoints: what they hold, where they go, and restoring the latest.

A checkpoint (`tf.train.CheckpointManager` in `<run_dir>/checkpoints`) holds the
networks, their optimizers, the counters `step` (global), `epoch` (completed epochs) and
`epoch_step` (steps into the current epoch), the run state (a JSON text:
`kcolor.training.resume.encode_state`) and the networks' Keras seed-generator states,
which a model's own checkpoint leaves out. The names under which they are tracked are
the checkpoint's format: they do not change.

Under several workers every worker takes part in each save, as TensorFlow's
multi-worker guide asks: the chief writes the run folder's checkpoints, the others a
temporary folder of their own (`tempfile.mkdtemp`), emptied after each save and
deleted by `close`.

Example:
    ckpt = RunCheckpoint(networks, run_dir, keep=3, workers=Workers(strategy))
    state = ckpt.restore()          # the restored run state, {} when nothing was restored
    ckpt.state.assign(encode_state(...)); ckpt.save()
"""

import tempfile

import tensorflow as tf

from kcolor import fs
from kcolor.errors import RunFolderError
from kcolor.training import resume as resume_lib


class RunCheckpoint:
    """The counters and run state of a run, and the checkpoint that saves them with the networks.

    Attributes:
        step, epoch, epoch_step: int64 variables (global step, completed epochs, steps
            into the current epoch).
        state: a string variable, the run state saved with each checkpoint.
        manager: the run folder's `CheckpointManager` (what is restored).
    """

    def __init__(self, networks, run_dir, *, keep, workers, verbose=0):
        self.run_dir = run_dir
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")  # completed epochs
        self.epoch_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch_step")
        self.state = tf.Variable("", dtype=tf.string, trainable=False, name="run_state")
        tracked = {f"{k}_optimizer": v for k, v in networks.optimizers.items()}
        tracked.update(networks.models)
        self.checkpoint = tf.train.Checkpoint(
            step=self.step, epoch=self.epoch, epoch_step=self.epoch_step, run_state=self.state,
            seed_states=networks.seed_states(), **tracked
        )
        keep = max(1, int(keep))
        self.manager = tf.train.CheckpointManager(self.checkpoint, fs.join(run_dir, "checkpoints"), max_to_keep=keep)
        self.worker_dir = None
        self.save_manager = self.manager
        if not workers.chief:
            # Every worker must take part in a save; the others write to a folder of their own.
            resolver = workers.strategy.cluster_resolver
            self.worker_dir = tempfile.mkdtemp(prefix=f"kcolor-{resolver.task_type}{resolver.task_id}-")
            self.save_manager = tf.train.CheckpointManager(
                self.checkpoint, fs.join(self.worker_dir, "checkpoints"), max_to_keep=1
            )
            if verbose:
                print(
                    f"Task {resolver.task_type}:{resolver.task_id} is not the chief: it writes nothing to the run folder; "
                    f"its share of each checkpoint goes to {self.worker_dir}, deleted after each save"
                )

    @property
    def latest(self):
        """The path of the run folder's latest checkpoint, or None."""
        return self.manager.latest_checkpoint

    def restore(self, verbose=0) -> dict:
        """Restore the latest checkpoint, if any; returns its run state (`{}` when none was restored)."""
        latest = self.manager.latest_checkpoint
        if not latest:
            return {}
        try:
            self.checkpoint.restore(latest).assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as err:
            first = str(err).strip().splitlines()[0][:300]
            raise RunFolderError(
                f"The checkpoint {latest} does not fit this model or kcolor version ({first}); "
                "use --set resume=restart or another run_dir"
            ) from None
        state = resume_lib.decode_state(self.state.numpy().decode("utf-8"), latest)
        if verbose:
            print(
                f"Resuming {self.run_dir} from {fs.basename(latest)}: "
                f"step {int(self.step.numpy())}, epoch {int(self.epoch.numpy())}"
            )
        return state

    def save(self):
        """Write a checkpoint numbered by the step; the previous one stays latest until it is complete."""
        path = self.save_manager.save(checkpoint_number=int(self.step.numpy()))
        if self.worker_dir is not None:
            fs.rmtree(fs.join(self.worker_dir, "checkpoints"))
        return path

    def close(self):
        """Delete a non-chief worker's temporary checkpoint folder."""
        if self.worker_dir is not None:
            fs.rmtree(self.worker_dir)


__all__ = ["RunCheckpoint"]
