"""Learning-rate schedules (`lr_schedule`), a config feature of every model."""

import numpy as np
import pytest
import tensorflow as tf

from kcolor.training.optimizers import make_optimizer
from kcolor.specs import parse_lr_schedule


def test_parse_the_coco_recipe():
    assert parse_lr_schedule("piecewise:59000:2e-4,2e-5") == ("piecewise", (59000,), (2e-4, 2e-5))
    assert parse_lr_schedule("piecewise:10,20:1e-3,1e-4,1e-5") == ("piecewise", (10, 20), (1e-3, 1e-4, 1e-5))
    assert parse_lr_schedule(None) is None


@pytest.mark.parametrize(
    "text, needle",
    [
        ("cosine:100", "unknown kind 'cosine'"),
        ("piecewise:59000", "expected piecewise:BOUNDARIES:VALUES"),
        ("piecewise:59000:2e-4", "1 boundaries need 2 values"),
        ("piecewise:20,10:1,2,3", "increasing"),
        ("piecewise:ten:1,2", "integers"),
        ("piecewise:10:1e-3,0", "positive"),
    ],
)
def test_bad_schedules_name_the_value_and_the_form(text, needle):
    with pytest.raises(ValueError, match=needle) as err:
        parse_lr_schedule(text)
    assert repr(text) in str(err.value) and "piecewise:B1" in str(err.value)


def _opt(**kwargs):
    var = tf.Variable(np.ones(3, np.float32))
    opt = make_optimizer(kwargs.pop("learning_rate", None), beta_1=0.5, beta_2=0.999, **kwargs)
    opt.build([var])
    return opt, var


def test_exactly_the_first_b_steps_use_the_first_value():
    opt, _ = _opt(lr_schedule="piecewise:59000:2e-4,2e-5")
    opt.iterations.assign(58999)  # the 59,000th update
    assert float(opt.learning_rate) == pytest.approx(2e-4)
    opt.iterations.assign(59000)
    assert float(opt.learning_rate) == pytest.approx(2e-5)


def test_the_fused_update_applies_the_scheduled_rate():
    scheduled, w1 = _opt(lr_schedule="piecewise:3:1e-1,1e-3")
    constant, w2 = _opt(learning_rate=1e-3)
    scheduled.iterations.assign(5)
    constant.iterations.assign(5)
    grad = tf.constant([0.5, -1.0, 2.0])
    scheduled.apply_gradients([(grad, w1)])
    constant.apply_gradients([(grad, w2)])
    np.testing.assert_allclose(w1.numpy(), w2.numpy(), rtol=1e-6)
    assert not np.allclose(w1.numpy(), 1.0)


def test_the_config_field_is_checked_with_one_clear_line():
    from kcolor.config import apply_overrides
    from kcolor.configs import get_config
    from kcolor.errors import ConfigError

    cfg = apply_overrides(get_config("sample"), ["lr_schedule=piecewise:100:1e-3,1e-4"])
    assert cfg.lr_schedule == "piecewise:100:1e-3,1e-4"
    assert apply_overrides(cfg, ["lr_schedule=none"]).lr_schedule is None
    with pytest.raises(ConfigError, match=r"lr_schedule='piecewise:100:1e-3' .*piecewise:B1"):
        apply_overrides(get_config("sample"), ["lr_schedule=piecewise:100:1e-3"])
