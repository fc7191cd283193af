"""kcolor against its PyTorch peer, side by side in one run of the benchmark.

`python -m kcolor.bench --peer only` (`make bench BENCH=peer`) runs, each in its own
fresh process (so every configuration's peak RSS, `ru_maxrss`, is its own), Isola's
Pix2Pix at 128x128 batch 16:

| row                               | what runs                                            |
|-----------------------------------|------------------------------------------------------|
| kcolor float32                    | `preset=isola`, the real `gan_step`, float32          |
| kcolor auto                       | the same under `mixed_precision=auto` (the row says what it resolved to) |
| kcolor float32 oneDNN             | float32 with `TF_ENABLE_ONEDNN_OPTS=1` in its process (TensorFlow leaves oneDNN off on x86 CPUs without AVX512-VNNI/AMX, e.g. AMD Zen 3) |
| kcolor mixed_bfloat16             | the same under the `mixed_bfloat16` policy            |
| torch float32 eager               | the peer (`kcolor.bench.torch_peer`), NCHW            |
| torch float32 channels-last       | the peer, NHWC memory format                          |
| torch float32 channels-last compiled | the same under `torch.compile` (`--peer-compile`)  |
| torch bfloat16 channels-last      | the peer under `torch.autocast("cpu", bfloat16)`      |
| conv peaks                        | a large 3x3 conv's GFLOP/s in float32 and bfloat16 (TensorFlow, oneDNN), and the step's FLOPs |

each row's images/s is `batch / median step time` over `PEER_STEPS` timed steps after
`PEER_WARMUP` (the first traces or compiles); then the ratios: kcolor float32 over
PyTorch's best float32 row (target >= 1.4), kcolor `auto` over PyTorch's best bfloat16
row (target >= 1.5), and the oneDNN row over PyTorch's best float32; the peak RSS of each
against the PyTorch row it is compared with (target: not above it); each row's share of
the conv peak of its arithmetic (the step's FLOPs from `kcolor.models.flops`, times
images/s); and where kcolor's step time goes: a `tf.profiler` trace of a few steps of
the `auto` row, summarised by op type (`profile_by_op_type`).

The machine may be shared: with `--peer-rounds N` the rows run N times, interleaved
(round 1 of every row, then round 2, ...), each ratio is computed within a round (a
paired comparison) and the median over rounds is reported with every round's value;
each row also records `cpu_per_wall`, the CPU time it got per second of wall time.

On a CPU without bfloat16 matrix units (no AMX, no AVX512-BF16; `auto` runs float32
there) a bfloat16 step is emulated and takes tens of seconds, so the bfloat16 rows time
`BF16_EMULATED_STEPS` steps after one warm-up step.

Example:
    python -m kcolor.bench --peer only --peer-rounds 2 --out bench_peer.json
"""

import collections
import glob
import importlib.util
import os
import re
import statistics
import tempfile

from kcolor.bench.stats import peak_rss_mb
from kcolor.timing import time_calls

PEER_SIZE, PEER_BATCH = 128, 16
RATIO_TARGETS = {"float32": 1.4, "auto": 1.5, "float32 oneDNN": 1.4}
PEER_STEPS, PEER_WARMUP = 5, 2  # timed steps and warm-up steps of a comparison row (--peer-steps)
ONEDNN = {"TF_ENABLE_ONEDNN_OPTS": "1"}
BF16_EMULATED_STEPS = 2
PEER_MODES = ("on", "off", "only")
PEAK_CONV = dict(batch=8, size=64, channels=256, kernel=3)  # 38.7 GFLOP per call
# A tf.profiler op event on a host thread is named "op_name:OpType".
_OP_EVENT = re.compile(r"^[^\s:]+:([A-Za-z0-9_]+)$")


def torch_available():
    """True when PyTorch is importable (the `bench` extra is installed)."""
    return importlib.util.find_spec("torch") is not None


# --------------------------------------------------------------------------- cases


def peer_cases(args, *, rounds=1, compile_torch=False, bf16_units=None):
    """The comparison's cases (see the module table), `rounds` times interleaved, peaks once.

    `bf16_units`: whether this CPU has bfloat16 matrix units; None reads /proc/cpuinfo.
    Every case has `group="peer"`, a `role` the summary reads and its `round`.
    """
    from kcolor.training.precision import cpu_bf16_flags

    if bf16_units is None:
        bf16_units = bool(cpu_bf16_flags())
    quick = bool(getattr(args, "quick", False))
    size, batch = (32, 4) if quick else (PEER_SIZE, PEER_BATCH)
    steps = 3 if quick else int(getattr(args, "peer_steps", None) or PEER_STEPS)
    warmup = 1 if quick else PEER_WARMUP
    bf16_steps = dict(steps=steps, warmup=warmup) if bf16_units or quick else dict(steps=BF16_EMULATED_STEPS, warmup=1)
    common = dict(group="peer", size=size, batch=batch, intra_op=args.intra_op, inter_op=args.inter_op)
    kcolor = dict(common, kind="train", model="pix2pix", options={"preset": "isola"}, steps=steps, warmup=warmup)
    torch = dict(common, kind="torch_train", steps=steps, warmup=warmup)
    rows = [
        dict(kcolor, label="kcolor float32", role="kcolor_float32", precision="float32"),
        dict(torch, label="torch float32 channels-last", role="torch_float32", precision="float32", channels_last=True),
        dict(kcolor, label="kcolor auto", role="kcolor_auto", precision="auto"),
        dict(kcolor, label="kcolor float32 oneDNN", role="kcolor_float32_onednn", precision="float32", env=ONEDNN),
        dict(torch, label="torch float32 eager", role="torch_float32", precision="float32", channels_last=False),
    ]
    if compile_torch:
        rows.append(
            dict(
                torch, label="torch float32 cl compiled", role="torch_float32", precision="float32",
                channels_last=True, compile=True,
            )
        )
    rows += [
        dict(kcolor, **bf16_steps, label="kcolor mixed_bfloat16", role="kcolor_bfloat16", precision="mixed_bfloat16"),
        dict(torch, **bf16_steps, label="torch bfloat16 channels-last", role="torch_bfloat16", precision="bfloat16",
             channels_last=True),
    ]
    cases = []
    for r in range(1, int(rounds) + 1):
        for row in rows:
            case = dict(row, round=r)
            if r == 1 and row["role"] == "kcolor_auto":
                case["profile_steps"] = 2 if quick else 3
            cases.append(case)
    cases.append(dict(common, kind="peaks", label="conv peaks", role="peaks", round=1, quick=quick))
    return cases


# --------------------------------------------------------------------------- child: peaks and profile


def measure_peaks(case):
    """Conv GFLOP/s peaks (float32, bfloat16) and the Isola step's FLOPs (child process)."""
    from kcolor.training.strategy import set_threads

    set_threads(case.get("intra_op", 0), case.get("inter_op", 0))
    import numpy as np
    import tensorflow as tf

    from kcolor.models.flops import gan_step_flops
    from kcolor.models.registry import build_model

    quick = bool(case.get("quick"))
    p = dict(PEAK_CONV, batch=1, size=32) if quick else PEAK_CONV
    flops = 2 * p["batch"] * p["size"] ** 2 * p["kernel"] ** 2 * p["channels"] ** 2
    rng = np.random.default_rng(0)
    x = rng.standard_normal((p["batch"], p["size"], p["size"], p["channels"]), dtype=np.float32)
    w = rng.standard_normal((p["kernel"], p["kernel"], p["channels"], p["channels"]), dtype=np.float32) * 0.05
    conv = tf.function(lambda x, w: tf.reduce_sum(tf.nn.conv2d(x, w, 1, "SAME")))
    peaks, medians = {}, {}
    for name, dtype in (("float32", tf.float32), ("bfloat16", tf.bfloat16)):
        xt, wt = tf.cast(x, dtype), tf.cast(w, dtype)
        # the warm-up call traces; float() waits for the result
        wall, _ = time_calls(lambda: float(conv(xt, wt)), 2 if quick else 5, warmup=1)
        peaks[name] = flops / min(wall) / 1e9
        medians[name] = flops / statistics.median(wall) / 1e9
    nets = build_model("pix2pix", int(case["size"]), preset="isola")
    step = gan_step_flops(nets["colorizer"], nets["discriminator"])

    return {
        "conv_gflops": peaks,
        "conv_gflops_median": medians,
        "conv_shape": p,
        "step_gflop_per_image": step["total"] / 1e9,
        "step_flops": step,
        "peak_rss_mb": peak_rss_mb(),
    }


def summarize_xspace(xspace, steps, *, top=12):
    """Op-type breakdown of a `tf.profiler` XSpace of `steps` train steps.

    Every host-thread event named `op_name:OpType` (an executed TensorFlow op) is summed
    by OpType. Returns `{"steps", "op_ms_per_step", "by_op_type": [{"op_type",
    "ms_per_step", "share"}...]}`, largest first, `share` of the summed op time (ops on
    the inter-op threads overlap, so the summed time can exceed the step's wall time).
    """
    totals = collections.Counter()
    for plane in xspace.planes:
        names = {key: meta.name for key, meta in plane.event_metadata.items()}
        for line in plane.lines:
            for event in line.events:
                match = _OP_EVENT.match(names.get(event.metadata_id, ""))
                if match:
                    totals[match.group(1)] += event.duration_ps
    total = sum(totals.values())
    steps = max(int(steps), 1)
    rows = [
        {"op_type": op, "ms_per_step": ps / 1e9 / steps, "share": ps / total}
        for op, ps in totals.most_common(top)
    ]
    return {"steps": steps, "op_ms_per_step": total / 1e9 / steps, "by_op_type": rows}


def profile_by_op_type(run_step, steps):
    """Trace `steps` calls of `run_step()` with `tf.profiler` and summarise them by op type.

    TensorFlow writes `plugins/profile/<run>/<host>.xplane.pb` under the log folder; it
    is read with the `XSpace` protobuf TensorFlow ships (`tensorflow.tsl.profiler`).
    Returns `summarize_xspace`'s dict plus `wall_ms_per_step` under the profiler.
    """
    import tensorflow as tf
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        try:
            wall, _ = time_calls(run_step, steps)
        finally:
            tf.profiler.experimental.stop()
        files = glob.glob(os.path.join(logdir, "plugins", "profile", "*", "*.xplane.pb"))
        if not files:
            raise RuntimeError(f"tf.profiler wrote no .xplane.pb under {logdir}")
        xspace = xplane_pb2.XSpace()
        with open(files[0], "rb") as f:
            xspace.ParseFromString(f.read())
    summary = summarize_xspace(xspace, steps)
    summary["wall_ms_per_step"] = 1000 * sum(wall) / max(int(steps), 1)
    return summary


# --------------------------------------------------------------------------- summary


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _ok(result):
    return "error" not in result and "images_per_sec" in result


def summarize(results):
    """Ratios, memory and peak fractions of the comparison rows in `results`.

    `results` are the bench's merged case+result dicts; rows without `group="peer"`
    are ignored. Per round, the best PyTorch float32 (bfloat16) row is the fastest one
    of that round; a ratio is kcolor's images/s over it in the same round, and the
    reported ratio is the median over rounds. Returns a dict (written to bench.json).
    """
    peer = [r for r in results if r.get("group") == "peer"]
    peaks = next((r for r in peer if r.get("role") == "peaks" and "error" not in r), None)
    rounds = sorted({r["round"] for r in peer if r.get("role") != "peaks"})
    ratios = {}
    memory = {}
    for name, kcolor_role, torch_role in (
        ("float32", "kcolor_float32", "torch_float32"),
        ("auto", "kcolor_auto", "torch_bfloat16"),
        ("float32 oneDNN", "kcolor_float32_onednn", "torch_float32"),
    ):
        per_round, rss = [], []
        for rnd in rounds:
            mine = [r for r in peer if r["round"] == rnd and r.get("role") == kcolor_role and _ok(r)]
            theirs = [r for r in peer if r["round"] == rnd and r.get("role") == torch_role and _ok(r)]
            if not mine or not theirs:
                continue
            best = max(theirs, key=lambda r: r["images_per_sec"])
            per_round.append(
                {
                    "round": rnd,
                    "ratio": mine[0]["images_per_sec"] / best["images_per_sec"],
                    "kcolor": mine[0]["images_per_sec"],
                    "torch": best["images_per_sec"],
                    "torch_row": best["label"],
                }
            )
            rss.append((mine[0]["peak_rss_mb"], best["peak_rss_mb"]))
        ratio = _median([p["ratio"] for p in per_round])
        ratios[name] = {
            "kcolor_row": f"kcolor {name}",
            "ratio": ratio,
            "target": RATIO_TARGETS[name],
            "passed": None if ratio is None else ratio >= RATIO_TARGETS[name],
            "rounds": per_round,
        }
        if rss:
            mine_mb, theirs_mb = max(m for m, _ in rss), max(t for _, t in rss)
            memory[name] = {"kcolor_mb": mine_mb, "torch_mb": theirs_mb, "passed": mine_mb <= theirs_mb}
    fractions = {}
    if peaks:
        gflop = peaks["step_gflop_per_image"]
        by_label = collections.defaultdict(list)
        for r in peer:
            if r.get("role") != "peaks" and _ok(r):
                by_label[r["label"]].append(r)
        for label, rows in by_label.items():
            ips = _median([r["images_per_sec"] for r in rows])
            dtype = "bfloat16" if rows[0].get("policy") in ("mixed_bfloat16", "bfloat16") else "float32"
            achieved = gflop * ips
            fractions[label] = {
                "images_per_sec": ips,
                "gflops": achieved,
                "peak": dtype,
                "fraction": achieved / peaks["conv_gflops"][dtype],
            }
    auto = next((r for r in peer if r.get("role") == "kcolor_auto" and _ok(r)), None)
    auto_note = None
    if auto is not None:
        from kcolor.training.precision import BF16_CPU_FLAGS, cpu_bf16_flags

        flags = cpu_bf16_flags()
        auto_note = f"kcolor auto ran {auto['policy']}: " + (
            f"this CPU has bfloat16 matrix units ({', '.join(flags)})" if flags
            else f"this CPU has no bfloat16 matrix units (none of {', '.join(BF16_CPU_FLAGS)}; no AMX)"
        )
    return {
        "auto": auto_note,
        "same_networks": same_networks(peer),
        "ratios": ratios,
        "memory": memory,
        "peak_fraction": fractions,
        "conv_gflops": peaks["conv_gflops"] if peaks else None,
        "step_gflop_per_image": peaks["step_gflop_per_image"] if peaks else None,
        "rounds": len(rounds),
    }


def same_networks(peer):
    """Whether the two frameworks trained the same networks: kcolor's trainable weights
    per network against the PyTorch peer's parameters (torch counts no BatchNorm
    statistics), from the first float32 row of each; None when either is missing."""
    mine = next((r for r in peer if r.get("role") == "kcolor_float32" and _ok(r) and "trainable" in r), None)
    theirs = next((r for r in peer if r.get("role") == "torch_float32" and _ok(r) and "params" in r), None)
    if mine is None or theirs is None:
        return None
    counts = {name: {"kcolor": mine["trainable"].get(name), "torch": theirs["params"].get(name)}
              for name in sorted(set(mine["trainable"]) | set(theirs["params"]))}
    return {"networks": counts, "same": all(c["kcolor"] == c["torch"] for c in counts.values())}


def format_row(case, result):
    """One printed line of a comparison row (the bench's table columns)."""
    label = f"{case['label']}" + (f" [{case['round']}]" if case.get("round", 1) > 1 else "")
    if "error" in result:
        return f"{label:<34} ERROR: {result['error'][:160]}"
    if case.get("role") == "peaks":
        g = result["conv_gflops"]
        return (
            f"{label:<34} float32 {g['float32']:.0f} GFLOP/s, bfloat16 {g['bfloat16']:.0f} GFLOP/s; "
            f"train step {result['step_gflop_per_image']:.2f} GFLOP/image"
        )
    extra = f"  policy {result.get('policy')}"
    if "cpu_per_wall" in result:
        extra += f", cpu/wall {result['cpu_per_wall']:.2f}"
    return (
        f"{label:<34} {case['size']:>4} {case['batch']:>5} {result['images_per_sec']:8.2f} "
        f"{result['step_ms_median']:8.0f} {result['peak_rss_mb']:8.0f}{extra}"
    )


def format_summary(summary, results=()):
    """The printed lines of `summarize`'s dict (and the profile of the `auto` row)."""
    lines = ["", f"kcolor against PyTorch, Isola's Pix2Pix, median of {summary['rounds']} round(s):"]
    if summary.get("auto"):
        lines.append(f"  {summary['auto']}")
    same = summary.get("same_networks")
    if same:
        counts = ", ".join(f"{name} {c['kcolor']:,} / {c['torch']:,}" for name, c in same["networks"].items())
        verdict = "the same networks" if same["same"] else "DIFFERENT networks: the ratios compare unlike models"
        lines.append(f"  parameters, kcolor / PyTorch: {counts}: {verdict}")
    for name, r in summary["ratios"].items():
        torch_kind = "bfloat16" if name == "auto" else "float32"
        if r["ratio"] is None:
            lines.append(f"  {r['kcolor_row']} / PyTorch best {torch_kind}: not measured (a row failed or was skipped)")
            continue
        each = ", ".join(f"{p['ratio']:.2f}" for p in r["rounds"])
        best = r["rounds"][-1]["torch_row"]
        lines.append(
            f"  {r['kcolor_row']} / PyTorch best {torch_kind} ({best}): {r['ratio']:.2f}x "
            f"(target >= {r['target']}: {'yes' if r['passed'] else 'NO'}; rounds: {each})"
        )
    for name, m in summary["memory"].items():
        lines.append(
            f"  peak RSS, kcolor {name}: {m['kcolor_mb']:.0f} MB against PyTorch's {m['torch_mb']:.0f} MB "
            f"(target: not above: {'yes' if m['passed'] else 'NO'})"
        )
    if summary["conv_gflops"]:
        g = summary["conv_gflops"]
        lines.append(
            f"  conv peaks: float32 {g['float32']:.0f} GFLOP/s, bfloat16 {g['bfloat16']:.0f} GFLOP/s; "
            f"step {summary['step_gflop_per_image']:.2f} GFLOP/image"
        )
        for label, f in summary["peak_fraction"].items():
            lines.append(f"    {label:<34} {f['gflops']:7.1f} GFLOP/s = {100 * f['fraction']:5.1f}% of the {f['peak']} peak")
    for r in results:
        prof = r.get("profile")
        if prof:
            lines.append(
                f"  where the step goes ({r['label']}, {prof['steps']} traced steps, "
                f"{prof['wall_ms_per_step']:.0f} ms/step wall, {prof['op_ms_per_step']:.0f} ms/step in ops):"
            )
            for op in prof["by_op_type"]:
                lines.append(f"    {op['op_type']:<32} {op['ms_per_step']:8.0f} ms/step  {100 * op['share']:5.1f}%")
    return lines


__all__ = [
    "BF16_EMULATED_STEPS",
    "PEER_MODES",
    "RATIO_TARGETS",
    "format_row",
    "format_summary",
    "measure_peaks",
    "peer_cases",
    "profile_by_op_type",
    "summarize",
    "summarize_xspace",
    "torch_available",
]
