"""Optimizers of the training engine.

`FusedAdam` is Keras' Adam with the same hyperparameters, state and update rule, whose
per-variable update runs as TensorFlow's single fused `ResourceApplyAdam` kernel. Keras'
own TensorFlow Adam spells the update as about ten element-wise ops, each a pass over
memory; for Pix2Pix's 57 M parameters that alone costs a large share of a CPU step.
The arithmetic is identical: `m += (g - m)(1 - b1)`, `v += (g^2 - v)(1 - b2)`,
`w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)`.

Learning-rate schedules are a config feature any model can use (`lr_schedule`):
`"piecewise:B1[,B2...]:V0,V1[,...]"` runs the first B1 steps at V0, the steps up to B2
at V1, and so on (one more value than boundaries, boundaries increasing). Paper 004's
COCO recipe is `"piecewise:59000:2e-4,2e-5"`: 59k steps at 2e-4, then 2e-5. A step is
one optimizer update (`optimizer.iterations`, saved in checkpoints, so a resumed run
continues on the schedule).

Example:
    opt = make_optimizer(2e-4, beta_1=0.5)
    opt.build(model.trainable_variables)       # before the first traced step
    opt = make_optimizer(None, lr_schedule="piecewise:59000:2e-4,2e-5", beta_2=0.999)
"""

import keras
import tensorflow as tf

from kcolor.specs import parse_lr_schedule


def _tf_variable(variable):
    # A Keras variable on the TensorFlow backend wraps a tf.Variable in `.value`.
    return variable.value if isinstance(variable, keras.Variable) else variable


@keras.saving.register_keras_serializable(package="kcolor")
class FusedAdam(keras.optimizers.Adam):
    """Adam (Kingma & Ba) whose dense updates use TensorFlow's fused kernel.

    Same arguments as `keras.optimizers.Adam`. AMSGrad, sparse gradients and
    non-float32 variables fall back to the Keras implementation.

    Example:
        opt = FusedAdam(learning_rate=2e-4, beta_1=0.5)
        opt.apply_gradients(zip(grads, model.trainable_variables))
    """

    def update_step(self, gradient, variable, learning_rate):
        var = _tf_variable(variable)
        if self.amsgrad or isinstance(gradient, tf.IndexedSlices) or var.dtype != tf.float32:
            return super().update_step(gradient, variable, learning_rate)
        index = self._get_variable_index(variable)
        m = _tf_variable(self._momentums[index])
        v = _tf_variable(self._velocities[index])
        local_step = tf.cast(self.iterations + 1, tf.float32)
        beta_1 = tf.cast(self.beta_1, tf.float32)
        beta_2 = tf.cast(self.beta_2, tf.float32)
        tf.raw_ops.ResourceApplyAdam(
            var=var.handle,
            m=m.handle,
            v=v.handle,
            beta1_power=tf.pow(beta_1, local_step),
            beta2_power=tf.pow(beta_2, local_step),
            lr=tf.cast(learning_rate, tf.float32),
            beta1=beta_1,
            beta2=beta_2,
            epsilon=tf.cast(self.epsilon, tf.float32),
            grad=tf.cast(gradient, tf.float32),
            use_locking=False,
        )


def make_learning_rate(learning_rate, lr_schedule=None):
    """A constant `learning_rate`, or the Keras schedule that `lr_schedule` describes."""
    schedule = parse_lr_schedule(lr_schedule)
    if schedule is None:
        return learning_rate
    _, boundaries, values = schedule
    # Keras' schedule is called with the count of updates already applied and keeps
    # values[0] while step <= boundary: `B - 1` makes exactly B updates use values[0].
    return keras.optimizers.schedules.PiecewiseConstantDecay([b - 1 for b in boundaries], list(values))


def make_optimizer(learning_rate, *, beta_1=0.9, beta_2=0.999, mixed_precision=None, lr_schedule=None):
    """The engine's Adam; wrapped in a `LossScaleOptimizer` for `mixed_float16`.

    With `lr_schedule` (see the module docstring) the schedule replaces `learning_rate`.
    """
    optimizer = FusedAdam(learning_rate=make_learning_rate(learning_rate, lr_schedule), beta_1=beta_1, beta_2=beta_2)
    if mixed_precision == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


__all__ = ["FusedAdam", "make_learning_rate", "make_optimizer"]
