"""Config checks (one table, one line per bad value), path expansion, and paper configs that build the paper."""

import dataclasses

import pytest

from kcolor.config import FIELD_CHECKS, TrainConfig, apply_overrides, build_options, expand_source, resolve_config
from kcolor.configs import get_config
from kcolor.fs import expand_path
from kcolor.errors import ConfigError, KcolorError
from kcolor.models.params import count_params
from kcolor.models.registry import ModelSpec, build_model


def test_every_config_field_has_a_check():
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    assert fields == set(FIELD_CHECKS), "add a FIELD_CHECKS row for each new TrainConfig field"


def test_the_defaults_and_every_registered_config_pass_the_checks():
    from kcolor.config import validate_config
    from kcolor.configs import list_configs

    validate_config(resolve_config(TrainConfig()))
    for name in list_configs():
        cfg = get_config(name)
        for field in FIELD_CHECKS:
            FIELD_CHECKS[field].test(getattr(cfg, field)) or pytest.fail(f"{name}: {field}={getattr(cfg, field)!r}")


@pytest.mark.parametrize(
    "override, valid",
    [
        ("epochs=-1", "integer >= 1"),
        ("epochs=0", "integer >= 1"),
        ("epochs=many", "integer >= 1"),
        ("batch_size=0", "integer >= 1"),
        ("image_size=2", "[8, 8192]"),
        ("steps_per_epoch=0", "or none"),
        ("learning_rate=-0.1", "(0, 1]"),
        ("beta_1=1", "[0, 1)"),
        ("loss=huber", "mse"),
        ("fractions=0,0.5", "train > 0"),
        ("fractions=0.5,0.2,0.2,0.1", "2 or 3"),
        ("augment=hue,blur", "contrast"),
        ("hue_delta=0.7", "[0, 0.5]"),
        ("contrast_range=1.3,0.7", "lower < upper"),
        ("cache=maybe", "true or false"),
        ("reference_from=other", "pair, self"),
        ("seed=-3", "integer in [0,"),
        ("strategy=gpu", "mirrored"),
        ("mixed_precision=fp8", "mixed_bfloat16"),
        ("intra_op_threads=-1", "integer in [0,"),
        ("checkpoint_every=0", "integer >= 1"),
        ("sample_images=0", "[1, 64]"),
        ("fid_images=0", "integer >= 1, or none"),
        ("fid_images=2.5", "integer >= 1, or none"),
        ("data=ftp:x", "folder:PATH"),
        ("model=nope", "pix2pix"),
    ],
)
def test_a_bad_value_fails_in_one_line_naming_it_and_what_is_valid(override, valid):
    key, value = override.split("=", 1)
    with pytest.raises(ConfigError) as info:
        apply_overrides(get_config("sample"), [override])
    message = str(info.value)
    assert "\n" not in message
    assert key in message and value.split(",")[0] in message and valid in message
    assert isinstance(info.value, KcolorError) and isinstance(info.value, ValueError)


def test_a_config_json_written_before_fid_images_and_init_from_still_loads():
    saved = TrainConfig(model="vit_gan", fid_images=500, init_from="runs/a").to_dict()
    assert (saved["fid_images"], saved["init_from"]) == (500, "runs/a")
    old = {k: v for k, v in saved.items() if k not in ("fid_images", "init_from")}
    loaded = TrainConfig.from_dict(old)
    assert (loaded.fid_images, loaded.init_from) == (None, None)  # every image; a fresh start
    assert TrainConfig.from_dict(saved).fid_images == 500
    assert apply_overrides(get_config("sample"), ["fid_images=none"]).fid_images is None
    assert apply_overrides(get_config("sample"), ["fid_images=12000"]).fid_images == 12000
    assert resolve_config(apply_overrides(get_config("sample"), ["init_from=~/runs/a"])).init_from == expand_path("~/runs/a")


def test_resolve_config_checks_values_set_in_python_too():
    with pytest.raises(ConfigError, match="epochs=-1"):
        resolve_config(dataclasses.replace(get_config("sample"), epochs=-1))
    with pytest.raises(ConfigError, match="batch_size=True"):
        resolve_config(dataclasses.replace(get_config("sample"), batch_size=True))  # a bool is not an int
    with pytest.raises(ConfigError, match="no option"):
        resolve_config(dataclasses.replace(get_config("sample"), options={"widht": 3}))


def test_good_values_pass():
    cfg = apply_overrides(
        get_config("sample"),
        ["epochs=1", "augment=none", "fractions=0.8,0.2", "mixed_precision=mixed_bfloat16", "steps_per_epoch=none"],
    )
    cfg = resolve_config(cfg)
    assert (cfg.epochs, cfg.augment, cfg.fractions, cfg.steps_per_epoch) == (1, (), (0.8, 0.2), None)


def test_a_reference_model_on_single_images_fails_before_anything_is_built(monkeypatch, tmp_path):
    import kcolor

    def no_build(*args, **kwargs):
        raise AssertionError("built a model before checking the data")

    monkeypatch.setattr(ModelSpec, "build", no_build)
    cfg = apply_overrides(get_config("sample"), ["model=stable_colorizer"])
    with pytest.raises(ConfigError) as info:
        kcolor.train(cfg, run_dir=str(tmp_path / "run"), verbose=0)
    message = str(info.value)
    assert "stable_colorizer" in message and "pairs:sample" in message and "pairs:folder:" in message
    assert not (tmp_path / "run").exists()
    # The pair sources and the "cheating" variant are accepted.
    resolve_config(apply_overrides(cfg, ["data=pairs:sample"]))
    resolve_config(apply_overrides(cfg, ["reference_from=self"]))


def test_expand_path_and_source(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KCOLOR_TEST_DATA", str(tmp_path / "data"))
    home, data = str(tmp_path / "home"), str(tmp_path / "data")
    assert expand_path("~/photos") == f"{home}/photos"
    assert expand_path("$KCOLOR_TEST_DATA/x") == f"{data}/x"
    assert expand_path(None) is None
    assert expand_source("folder:~/photos") == f"folder:{home}/photos"
    assert expand_source("records:$KCOLOR_TEST_DATA/r") == f"records:{data}/r"
    assert expand_source("pairs:folder:~/refs, $KCOLOR_TEST_DATA/tgt") == f"pairs:folder:{home}/refs,{data}/tgt"
    assert expand_source("pairs:records:~/p") == f"pairs:records:{home}/p"
    assert expand_source("tfds:oxford_flowers102") == "tfds:oxford_flowers102"
    assert expand_source("sample") == "sample"


def test_resolve_config_expands_every_path(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KCOLOR_TEST_RUNS", str(tmp_path / "runs"))
    cfg = apply_overrides(
        get_config("stable_smoke"),
        ["data=pairs:folder:~/a,~/b", "data_dir=~/tfds", "run_dir=$KCOLOR_TEST_RUNS/x", "encoder_from=~/ae"],
    )
    cfg = resolve_config(cfg)
    assert cfg.data == f"pairs:folder:{tmp_path}/a,{tmp_path}/b"
    assert (cfg.data_dir, cfg.run_dir) == (f"{tmp_path}/tfds", f"{tmp_path}/runs/x")
    assert cfg.options["encoder_from"] == f"{tmp_path}/ae"
    konvid = resolve_config(
        dataclasses.replace(get_config("stable_konvid"), options_by_model={"stable_colorizer": {"encoder_from": "~/e"}})
    )
    assert konvid.options["encoder_from"] == f"{tmp_path}/e"


# ------------------------------------------------------------------ paper configs


PAPER_001 = {  # model -> (the option the paper states, its value)
    "resnet_color": ("filters", 256),
    "densenet_color": ("stem_filters", 256),
    "pix2pix": ("preset", "paper001"),
}


@pytest.mark.parametrize("model", sorted(PAPER_001))
def test_flowers_builds_the_papers_setting_and_set_still_overrides(model):
    key, paper = PAPER_001[model]
    cfg = apply_overrides(get_config("flowers"), [f"model={model}"])
    assert resolve_config(cfg).options[key] == paper
    assert build_options(cfg)[key] == paper
    small = build_options(apply_overrides(get_config("flowers_small"), [f"model={model}"]))
    assert small[key] != paper or model == "pix2pix"
    override = "filters=64" if model == "resnet_color" else "stem_filters=64" if model == "densenet_color" else "patch=128"
    assert build_options(apply_overrides(cfg, [override]))[override.split("=")[0]] == int(override.split("=")[1])


def test_flowers_serves_every_paper_001_model():
    for model in ("autoencoder", "deep_cnn", "unet_residual", "resnet_color", "densenet_color", "pix2pix"):
        cfg = resolve_config(apply_overrides(get_config("flowers"), [f"model={model}"]))
        assert (cfg.image_size, cfg.learning_rate, cfg.loss, cfg.epochs) == (128, 1e-3, "mse", 30)


def test_flowers_resnet_and_densenet_are_the_papers_width():
    # Parameter counts do not depend on the image size: build small, count the paper's widths.
    resnet = build_model("resnet_color", 16, **build_options(apply_overrides(get_config("flowers"), ["model=resnet_color"])))
    assert resnet["colorizer"].get_layer("stem_conv").filters == 256
    assert count_params(resnet["colorizer"])["trainable"] == 2_649_861
    dense = build_model(
        "densenet_color", 16, **build_options(apply_overrides(get_config("flowers"), ["model=densenet_color"]))
    )
    assert dense["colorizer"].get_layer("stem_conv").filters == 256
    small = build_model("resnet_color", 16, **build_options(apply_overrides(get_config("flowers_small"), ["model=resnet_color"])))
    assert small["colorizer"].get_layer("stem_conv").filters == 16


def test_flowers_pix2pix_uses_64_pixel_patches():
    from kcolor.models.pix2pix import resolve_options

    options = build_options(apply_overrides(get_config("flowers"), ["model=pix2pix"]))
    resolved = resolve_options(**options)
    assert (resolved["patch"], resolved["encoder_activation"], resolved["recon_loss"]) == (64, "relu", "mse")
    assert (resolved["base_filters"], resolved["max_filters"]) == (64, 512)


def test_options_by_model_name_registered_models_and_their_options():
    with pytest.raises(ConfigError, match="options_by_model"):
        resolve_config(dataclasses.replace(get_config("sample"), options_by_model={"no_such_model": {}}))
    with pytest.raises(ConfigError, match="widht"):
        resolve_config(dataclasses.replace(get_config("flowers"), options_by_model={"resnet_color": {"widht": 3}}))


def test_old_field_names_still_work_for_one_release_with_one_line_naming_the_new_one(capsys):
    cfg = apply_overrides(get_config("sample"), ["split=0.8,0.2"])
    assert cfg.fractions == (0.8, 0.2)
    err = capsys.readouterr().err
    assert err == "--set split is deprecated (--split names a split; fractions make one): use fractions\n"
    old = TrainConfig().to_dict()  # as a config.json written before the renames holds it
    del old["fractions"], old["options_by_model"]
    cfg = TrainConfig.from_dict({**old, "split": [0.7, 0.3], "model_options": {"pix2pix": {"base_filters": 8}}})
    assert cfg.fractions == (0.7, 0.3) and cfg.options_by_model == {"pix2pix": {"base_filters": 8}}
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "config field split is deprecated (--split names a split; fractions make one): use fractions",
        "config field model_options is deprecated (it holds builder options per model; options are the chosen "
        "model's): use options_by_model",
    ]
    with pytest.raises(ConfigError, match="split and fractions are both set"):
        TrainConfig.from_dict({"split": [0.7, 0.3], "fractions": [0.7, 0.3]})


def test_weights_paths_expand_home_and_variables_like_every_user_path(monkeypatch, tmp_path):
    from kcolor.errors import UnknownWeights
    from kcolor.models.weights import parse_weights

    (tmp_path / "w.h5").write_bytes(b"x")
    monkeypatch.setenv("KCOLOR_WEIGHTS_DIR", str(tmp_path))
    assert parse_weights("$KCOLOR_WEIGHTS_DIR/w.h5") == str(tmp_path / "w.h5")
    assert parse_weights("IMAGENET") == "imagenet" and parse_weights("none") is None
    with pytest.raises(UnknownWeights, match="no such file"):
        parse_weights("$KCOLOR_WEIGHTS_DIR/missing.h5")


def test_a_retired_config_name_still_works_for_a_release_and_names_the_new_one(capsys):
    from kcolor.configs import get_config, list_configs

    cfg = get_config("stable_sample")
    assert cfg.config_name == "stable_smoke" and cfg == get_config("stable_smoke")
    assert "config 'stable_sample' is now called 'stable_smoke'" in capsys.readouterr().err
    assert "stable_sample" not in list_configs()
