"""The training engine: losses, train steps, strategies and the resumable loop.

- `losses`: the `LOSSES` (reconstruction) and `ADV_LOSSES` (adversarial) tables.
- `steps`: `supervised_step`, `gan_step`, `eval_step` and `compile_step`, which runs a
  step under a `tf.distribute` strategy inside one `tf.function`.
- `optimizers`: `FusedAdam`, Keras' Adam with TensorFlow's fused update kernel.
- `strategy`: `make_strategy(name)` and the thread settings.
- `loop`: `train(cfg)`, which writes and resumes a run folder, built from `networks`
  (models and optimizers), `checkpoints`, `run_folder` (the files a run writes),
  `streams` (the distributed data) and `workers` (who writes, what they agree on).
- `hooks`: `RunHooks`, the extension point `train(cfg, hooks=...)` calls at each phase
  of a run (a step, a checkpoint write, the epoch-end files, the colorizer).

Example:
    from kcolor.training import train
    result = train(cfg, max_steps=10)
"""

from kcolor.training.losses import ADV_LOSSES, LOSSES, get_adv_loss, get_loss, register_loss  # noqa: F401
from kcolor.training.hooks import RunHooks  # noqa: F401
from kcolor.training.loop import train  # noqa: F401
from kcolor.training.optimizers import FusedAdam, make_optimizer  # noqa: F401
from kcolor.training.steps import compile_step, eval_step, gan_step, supervised_step  # noqa: F401
from kcolor.training.strategy import make_strategy, set_threads  # noqa: F401
