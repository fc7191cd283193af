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

A new run may start from another run's weights (`init_from`, a config field):
`init_networks_from` reads every network of this run (`colorizer`, and `discriminator`
for a GAN) from that run folder's latest checkpoint, and nothing else: the optimizers
start fresh and the counters at 0. The networks must be the source run's (model,
image size and options), or the read fails naming both. A resumed run keeps its own
checkpoint and never reads `init_from` again.

Example:
    ckpt = RunCheckpoint(networks, run_dir, keep=3, workers=Workers(strategy))
    state = ckpt.restore()          # the restored run state, {} when nothing was restored
    ckpt.state.assign(encode_state(...)); ckpt.save()
    init_networks_from(networks, "runs/unsplash_vit_i_gan-vit_i_gan")   # a fine-tuning run's start
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


def init_checkpoint(run_dir) -> str:
    """The latest checkpoint of run folder `run_dir`, which `init_from=run_dir` starts a run from.

    Raises `RunFolderError` (one line) when the folder does not exist or holds no checkpoint.
    """
    run_dir = fs.path_str(run_dir)
    if not fs.isdir(run_dir):
        raise RunFolderError(
            f"init_from={run_dir!r} does not exist: it must be a run folder written by kcolor train, "
            "whose latest checkpoint starts this run"
        )
    latest = tf.train.latest_checkpoint(fs.join(run_dir, "checkpoints"))
    if not latest:
        raise RunFolderError(
            f"init_from={run_dir!r} holds no weights: no checkpoint in {fs.join(run_dir, 'checkpoints')}. "
            "Train that run first, or point init_from at a run folder with checkpoints"
        )
    return latest


def init_networks_from(networks, run_dir) -> str:
    """Set every network of `networks` (a `Networks`) to its weights in `run_dir`'s latest checkpoint.

    Only the networks are read (not the optimizers, counters or run state); every one
    of their variables must be found there with its shape. Returns the checkpoint's path.
    """
    latest = init_checkpoint(run_dir)
    source = tf.train.Checkpoint(**networks.models)
    try:
        status = source.read(latest)
        status.assert_existing_objects_matched()
        status.expect_partial()  # the source's optimizers and counters are left unread on purpose
    except (AssertionError, ValueError, tf.errors.OpError) as err:
        first = str(err).strip().splitlines()[0][:300]
        raise RunFolderError(
            f"init_from={run_dir!r}: its checkpoint {latest} does not fit this run's networks ({first}); "
            "the model, image_size and options must be those of that run"
        ) from None
    return latest


__all__ = ["RunCheckpoint", "init_checkpoint", "init_networks_from"]
