"""The benchmark's comparison with PyTorch: the peer is Isola's Pix2Pix with kcolor's
parameter counts, the FLOP count is the model's, and the ratios, memory and peak
fractions are computed from the rows as the report says."""

import argparse

import pytest

from kcolor.bench import peer as bench_peer
from kcolor.bench import run as bench_run


def _args(**kw):
    base = dict(quick=False, steps=10, warmup=2, intra_op=2, inter_op=2, peer="only", peer_rounds=2, peer_compile=False)
    return argparse.Namespace(**{**base, **kw})


def test_the_comparison_says_whether_both_frameworks_trained_the_same_networks():
    # The PyTorch peer itself runs only in `make bench` (torch is the bench extra, not the
    # test extra); what the comparison reports of its parameter counts is tested here.
    mine = dict(_row("kcolor_float32", "kcolor float32", 1, 6.0, 1700),
                trainable={"colorizer": 54_414_080, "discriminator": 2_768_705})
    theirs = dict(_row("torch_float32", "torch float32 eager", 1, 4.0, 2000),
                  params={"colorizer": 54_414_080, "discriminator": 2_768_705})
    s = bench_peer.summarize([mine, theirs])
    assert s["same_networks"]["same"] is True
    assert "colorizer 54,414,080 / 54,414,080" in "\n".join(bench_peer.format_summary(s))
    theirs["params"] = {"colorizer": 54_414_081, "discriminator": 2_768_705}
    s = bench_peer.summarize([mine, theirs])
    assert s["same_networks"]["same"] is False
    assert "DIFFERENT networks" in "\n".join(bench_peer.format_summary(s))
    assert bench_peer.summarize([mine])["same_networks"] is None


def test_train_step_flops_are_counted_from_the_model():
    import keras

    from kcolor.models.flops import gan_step_flops, layer_flops, training_pass_flops
    from kcolor.models.registry import build_model

    x = keras.Input((8, 8, 3))
    y = keras.layers.Conv2D(5, 3, strides=2, padding="same")(x)  # 4x4x5 outputs, 3*3*3 MACs each
    y = keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same")(y)  # 4x4x5 inputs, 4*4*2 MACs each
    model = keras.Model(x, y)
    assert [f for _, f in layer_flops(model)] == [2 * 16 * 5 * 27, 2 * 16 * 5 * 32]
    p = training_pass_flops(model)
    assert p["total"] == 3 * (2 * 16 * 5 * 27 + 2 * 16 * 5 * 32) - 2 * 16 * 5 * 27  # no gradient for the image
    nets = build_model("pix2pix", 128, preset="isola")
    step = gan_step_flops(nets["colorizer"], nets["discriminator"])
    assert round(step["total"] / 1e9, 2) == 18.05  # Isola at 128x128, each D pass once


def _row(role, label, rnd, ips, rss, policy="float32"):
    return dict(group="peer", role=role, label=label, round=rnd, images_per_sec=ips, peak_rss_mb=rss, policy=policy,
                step_ms_median=16000 / ips, size=128, batch=16)


def test_ratios_memory_and_peak_fractions_from_the_rows():
    results = [
        _row("kcolor_float32", "kcolor float32", 1, 6.0, 1700),
        _row("torch_float32", "torch float32 channels-last", 1, 4.0, 2000),
        _row("torch_float32", "torch float32 eager", 1, 3.0, 2100),
        _row("kcolor_auto", "kcolor auto", 1, 6.0, 1750),
        _row("torch_bfloat16", "torch bfloat16 channels-last", 1, 1.0, 1900, "bfloat16"),
        _row("kcolor_float32", "kcolor float32", 2, 4.0, 1800),
        _row("torch_float32", "torch float32 channels-last", 2, 2.0, 2000),
        _row("torch_float32", "torch float32 eager", 2, 5.0, 2100),  # the best float32 row of round 2
        _row("kcolor_auto", "kcolor auto", 2, 4.0, 1750),
        dict(group="peer", role="torch_bfloat16", label="torch bfloat16 channels-last", round=2, error="boom"),
        dict(group="peer", role="peaks", label="conv peaks", round=1, step_gflop_per_image=18.0,
             conv_gflops={"float32": 200.0, "bfloat16": 50.0}),
        dict(label="pix2pix", images_per_sec=99.0, peak_rss_mb=1.0),  # not a comparison row: ignored
    ]
    s = bench_peer.summarize(results)
    f32, auto = s["ratios"]["float32"], s["ratios"]["auto"]
    assert [r["ratio"] for r in f32["rounds"]] == [1.5, 0.8] and f32["ratio"] == pytest.approx(1.15)
    assert f32["rounds"][1]["torch_row"] == "torch float32 eager" and f32["passed"] is False
    assert [r["round"] for r in auto["rounds"]] == [1] and auto["ratio"] == 6.0 and auto["passed"] is True
    assert s["memory"]["float32"] == {"kcolor_mb": 1800, "torch_mb": 2100, "passed": True}
    assert s["memory"]["auto"] == {"kcolor_mb": 1750, "torch_mb": 1900, "passed": True}
    frac = s["peak_fraction"]
    assert frac["kcolor float32"]["fraction"] == pytest.approx(18.0 * 5.0 / 200.0)  # median of 6 and 4 img/s
    assert frac["torch bfloat16 channels-last"]["peak"] == "bfloat16"
    assert frac["torch bfloat16 channels-last"]["fraction"] == pytest.approx(18.0 / 50.0)
    text = "\n".join(bench_peer.format_summary(s, results))
    assert s["auto"].startswith("kcolor auto ran float32: this CPU has")
    assert "1.15x (target >= 1.4: NO; rounds: 1.50, 0.80)" in text and "6.00x (target >= 1.5: yes" in text

    no_torch = bench_peer.summarize([r for r in results if not r.get("role", "").startswith("torch")])
    assert no_torch["ratios"]["float32"]["ratio"] is None and no_torch["memory"] == {}
    assert "not measured" in "\n".join(bench_peer.format_summary(no_torch))


def test_comparison_cases_interleave_rounds_and_name_the_missing_extra(monkeypatch):
    cases = bench_peer.peer_cases(_args(), rounds=2, bf16_units=False)
    timed = [c for c in cases if c["role"] != "peaks"]
    assert [c["round"] for c in timed] == [1] * 7 + [2] * 7 and cases[-1]["role"] == "peaks"
    assert [c["label"] for c in timed[:7]] == [c["label"] for c in timed[7:]]
    assert {(c["size"], c["batch"]) for c in cases} == {(128, 16)}
    bf16 = [c for c in timed if c["role"] in ("kcolor_bfloat16", "torch_bfloat16")]
    assert {(c["steps"], c["warmup"]) for c in bf16} == {(bench_peer.BF16_EMULATED_STEPS, 1)}
    assert [c["label"] for c in cases if c.get("profile_steps")] == ["kcolor auto"]
    with_units = bench_peer.peer_cases(_args(), rounds=1, bf16_units=True, compile_torch=True)
    assert {c["steps"] for c in with_units if c["role"] != "peaks"} == {bench_peer.PEER_STEPS}
    assert [c["env"] for c in cases if c.get("env")] == [{"TF_ENABLE_ONEDNN_OPTS": "1"}] * 2
    assert any(c.get("compile") for c in with_units)

    monkeypatch.setattr(bench_peer, "torch_available", lambda: False)
    with pytest.raises(SystemExit) as err:
        bench_run.main(["--peer", "only", "--out", "/dev/null"])
    assert "pip install -e .[bench]" in str(err.value)
    assert bench_run._with_peer(_args(peer="on"), ["x"]) == ["x"]  # on: the other cases still run


def test_profile_summary_sums_op_events_by_type():
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    plane = space.planes.add(name="/host:CPU")
    for key, name in enumerate(
        ["g/enc1_conv/Conv2D:Conv2D", "grad/Conv2DBackpropInput:Conv2DBackpropInput", "ExecutorState::Process",
         "EagerLocalExecute: __inference_step_39"], start=1
    ):
        plane.event_metadata[key].id = key
        plane.event_metadata[key].name = name
    line = plane.lines.add(name="tf_Compute")
    for key, ms in ((1, 10), (2, 25), (1, 5), (3, 100), (4, 100)):
        line.events.add(metadata_id=key, duration_ps=int(ms * 1e9))
    s = bench_peer.summarize_xspace(space, steps=2)
    assert s["op_ms_per_step"] == pytest.approx(20.0)
    assert [(r["op_type"], r["ms_per_step"]) for r in s["by_op_type"]] == [("Conv2DBackpropInput", 12.5), ("Conv2D", 7.5)]
    assert s["by_op_type"][0]["share"] == pytest.approx(0.625)
