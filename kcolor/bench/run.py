"""Throughput benchmark: train-step images/s per model, and the input pipeline's images/s.

    python -m kcolor.bench                  # a few minutes; writes bench.json
    python -m kcolor.bench --quick          # a smoke run of every case
    python -m kcolor.bench --models pix2pix,unet_residual --out my_bench.json

Cases, each in its own fresh Python process (so thread pools are set before TensorFlow
starts and peak resident memory is the case's own):

- every registered model: the real train step (`gan_step` or `supervised_step` from
  `kcolor.training`, compiled as `train` compiles it) on a fixed random batch at
  `--size` x `--size`, batch `--batch`;
- Pix2Pix with `preset=isola` (Isola's architecture) at 128x128 batch 16 and at 256x256
  batch 1, checked against the targets of issue 2 (>= 8.5 and >= 1.45 images/s, peak
  RSS <= 1.8 GB at 128x128 batch 16);
- KMHCNet variants 2, 4 and 6 (UNet++ on ResNet50/34/18, loss `ms_ssim@lab`) at
  256x256 batch 4, the paper's setting (32 px with `--quick`);
- Isola's Pix2Pix at 128x128 batch 16 under `--precision` (default `auto`, resolved per
  device by `kcolor.training.precision`; the row's `policy` says what ran);
- scaling: the same case on 2 logical CPU devices under `MirroredStrategy` (global
  batch 16, 8 per replica), and on 2 local worker processes under
  `MultiWorkerMirroredStrategy` (`kcolor.bench.cluster`: 127.0.0.1, free
  ports, one `TF_CONFIG` each; the same global batch, 8 per worker; each worker gets
  half the intra-op threads, so the two together use the cores once). Each is reported
  against the 1-process float32 row of the same size and batch (`scaling_summary`).
  On one machine's cores this measures the strategies' overhead, not a speed-up;
- with `--peer on` (the default, when PyTorch is installed) or `--peer only`: Isola's
  Pix2Pix against its PyTorch peer at 128x128 batch 16, the ratios, peak memory, conv
  peaks and a profile (`kcolor.bench.peer`, `kcolor.bench.torch_peer`);
- the input pipeline: `kcolor.data.write_records` shards of the `sample` photos read
  back through `build_datasets` (`records:` source, training augmentation on, cache
  off, no training), in images/s.

Train-step images/s is `batch / median step time` over `--steps` steps after `--warmup`
steps (the first of which traces the step). Threads are set deliberately: intra-op =
the cores (each conv uses all of them), inter-op = 2 (independent ops overlap; with 1,
Pix2Pix ran about 10% slower on a 2-core machine). The machine (cores, CPU, TensorFlow
and Keras versions, load average) is written with the results.

This module is the driver: it picks the cases (`build_cases`, and the comparison's from
`kcolor.bench.peer`), runs each in a child process (`kcolor.bench.cases`), prints the
table and the summaries, and writes the report.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

from kcolor.bench import peer
from kcolor.bench.cluster import ClusterError, run_local_cluster
from kcolor.bench.cases import measure_case
from kcolor.bench.torch_peer import INSTALL_HINT

ISOLA_TARGETS = (
    # (size, batch, images/s target, peak RSS target in MB)
    (128, 16, 8.5, 1800.0),
    (256, 1, 1.45, None),
)


def machine_info():
    """The machine a bench ran on: CPU, cores, memory, Python, TensorFlow and Keras versions."""
    import keras
    import tensorflow as tf

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        import psutil

        physical = psutil.cpu_count(logical=False)
        memory_gb = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        physical, memory_gb = None, None
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "physical_cores": physical,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "platform": platform.platform(),
    }


# --------------------------------------------------------------------------- driver


def _json_line(text):
    lines = [line for line in text.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def _run_workers(case, timeout, env):
    """A multi-worker case: `case["workers"]` local processes; the chief's result, and each worker's images/s."""
    command = [sys.executable, "-m", "kcolor.bench", "--case", json.dumps(case)]
    try:
        workers = run_local_cluster(command, workers=int(case["workers"]), timeout=timeout, env=env)
    except ClusterError as err:
        return {"error": str(err)}
    results = [_json_line(w.stdout) for w in workers]
    if any(r is None for r in results):
        return {"error": "a worker printed no result"}
    return {**results[0], "workers": len(results), "worker_images_per_sec": [r["images_per_sec"] for r in results]}


def _run_child(case, timeout):
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(case.get("env") or {})  # a case's own environment (read before TensorFlow starts)
    if case.get("workers"):
        return _run_workers(case, timeout, env)
    proc = subprocess.run(
        [sys.executable, "-m", "kcolor.bench", "--case", json.dumps(case)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return {"error": " | ".join(tail) or f"exit code {proc.returncode}"}
    return json.loads(lines[-1])


def build_cases(args):
    from kcolor.models.registry import list_models

    models = list_models()
    if args.models:
        wanted = [m.strip() for m in args.models.split(",") if m.strip()]
        unknown = sorted(set(wanted) - set(models))
        if unknown:
            raise SystemExit(f"bench: unknown model(s) {unknown}. Valid models: {', '.join(models)}")
        models = wanted
    steps = 5 if args.quick else args.steps
    warmup = 2 if args.quick else args.warmup
    size = 32 if args.quick else args.size
    batch = 4 if args.quick else args.batch
    threads = {"intra_op": args.intra_op, "inter_op": args.inter_op}
    cases = []
    for model in models:
        cases.append(
            dict(kind="train", label=model, model=model, size=size, batch=batch, steps=steps, warmup=warmup, **threads)
        )
    if "pix2pix" in models:
        for t_size, t_batch, target, rss in ISOLA_TARGETS:
            cases.append(
                dict(
                    kind="train",
                    label=f"pix2pix isola {t_size}/{t_batch}",
                    model="pix2pix",
                    options={"preset": "isola"},
                    size=t_size,
                    batch=t_batch,
                    steps=steps,
                    warmup=warmup,
                    target_images_per_sec=None if args.quick else target,
                    target_peak_rss_mb=None if args.quick else rss,
                    **threads,
                )
            )
    if "pix2pix" in models:
        isola = dict(kind="train", model="pix2pix", options={"preset": "isola"}, steps=steps, warmup=warmup, **threads)
        isola.update(size=32 if args.quick else 128, batch=4 if args.quick else 16)
        cases.append(dict(isola, label=f"pix2pix isola {args.precision}", precision=args.precision))
        cases.append(dict(isola, label="pix2pix isola 2 logical CPUs", strategy="mirrored", logical_devices=2))
        per_worker = {"intra_op": max(1, args.intra_op // 2), "inter_op": args.inter_op}
        cases.append(dict(isola, label="pix2pix isola 2 workers", strategy="multiworker", workers=2, **per_worker))
    if "unetpp_enc" in models:
        # KMHCNet (Paper 003) variants 2, 4 and 6 as the paper trains them: 256x256, batch 4, 1 - MS-SSIM on ab.
        for variant, encoder in ((2, "resnet50"), (4, "resnet34"), (6, "resnet18")):
            cases.append(
                dict(
                    kind="train",
                    label=f"kmhcnet_{variant} unetpp {encoder}",
                    model="unetpp_enc",
                    options={"encoder": encoder, "weights": "none"},
                    loss="ms_ssim@lab",
                    size=32 if args.quick else 256,
                    batch=4,
                    steps=steps,
                    warmup=warmup,
                    **threads,
                )
            )
    if not args.no_pipeline:
        cases.append(
            dict(
                kind="pipeline",
                label="pipeline records:sample",
                size=args.pipeline_size,
                batch=16,
                steps=10 if args.quick else 100,
                warmup=2 if args.quick else 5,
                **threads,
            )
        )
    return cases


def _with_peer(args, cases):
    """`cases` plus the comparison with the PyTorch peer (`kcolor.bench.peer`) per `--peer`."""
    if args.peer == "off":
        return cases
    if not peer.torch_available():
        message = f"bench: the PyTorch peer needs PyTorch, which is not installed. Install the bench extra: {INSTALL_HINT}"
        if args.peer == "only":
            raise SystemExit(message)
        print(message + " (skipping the comparison)")
        return cases
    if args.peer_rounds < 1 or args.peer_steps < 1:
        raise SystemExit(
            f"bench: --peer-rounds and --peer-steps must be >= 1. Received: {args.peer_rounds}, {args.peer_steps}"
        )
    return cases + peer.peer_cases(args, rounds=args.peer_rounds, compile_torch=args.peer_compile)


def _peer_row(case, result):
    return peer.format_row(case, result)


def _peer_summary(results):
    """Print the comparison's ratios, memory, peak fractions and profile; return them."""
    summary = peer.summarize(results)
    print("\n".join(peer.format_summary(summary, results)))
    return summary


def scaling_summary(results):
    """Lines comparing each scaling row (2 logical CPUs, 2 workers) with the 1-process float32 row
    of the same model, options, size and batch, when the run has one."""
    def key(r):
        return r.get("model"), r.get("options"), r.get("size"), r.get("batch")

    def one_process(r):
        return (r.get("strategy") or "default") == "default" and r.get("group") != "peer" and "error" not in r

    lines = []
    for row in results:
        if "error" in row or one_process(row) or row.get("group") == "peer":
            continue
        base = next(
            (r for r in results if one_process(r) and r.get("policy") == "float32" and r.get("replicas") == 1
             and key(r) == key(row)),
            None,
        )
        if base is None:
            lines.append(f"{row['label']}: {row['images_per_sec']:.2f} img/s (no 1-process float32 row of that size here)")
            continue
        ratio = row["images_per_sec"] / base["images_per_sec"]
        lines.append(
            f"{row['label']}: {row['images_per_sec']:.2f} img/s against {base['images_per_sec']:.2f} for one process "
            f"({base['label']}): x{ratio:.2f}"
        )
    return lines


def _row(case, result):
    if "error" in result:
        return f"{case['label']:<28} {case['size']:>4} {case['batch']:>5}   ERROR: {result['error'][:120]}"
    ok = []
    if case.get("target_images_per_sec"):
        ok.append(f"img/s >= {case['target_images_per_sec']}: {'yes' if result['passed_speed'] else 'NO'}")
    if case.get("target_peak_rss_mb"):
        ok.append(f"RSS <= {case['target_peak_rss_mb']:.0f} MB: {'yes' if result['passed_rss'] else 'NO'}")
    step = f"{result['step_ms_median']:8.0f}" if "step_ms_median" in result else f"{'-':>8}"
    return (
        f"{case['label']:<28} {case['size']:>4} {case['batch']:>5} {result['images_per_sec']:8.2f} {step} "
        f"{result['peak_rss_mb']:8.0f}  {'; '.join(ok)}"
    )


def _parser():
    """The command line of `python -m kcolor.bench` (`--case` is the child process's, hidden)."""
    parser = argparse.ArgumentParser(prog="python -m kcolor.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, 5 steps, no targets")
    parser.add_argument("--models", default=None, help="comma-separated registered models (default: all)")
    parser.add_argument("--size", type=int, default=64, help="image size of the per-model cases (default 64)")
    parser.add_argument("--batch", type=int, default=8, help="batch of the per-model cases (default 8)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps after warm-up (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps, the first traces (default 3)")
    cores = os.cpu_count() or 1
    parser.add_argument("--intra-op", type=int, default=cores, help=f"intra-op threads (default: the cores, {cores})")
    parser.add_argument("--inter-op", type=int, default=2, help="inter-op threads (default 2; 0: TensorFlow's choice)")
    parser.add_argument(
        "--precision", default="auto", choices=("auto", "float32", "mixed_bfloat16", "mixed_float16"),
        help="mixed precision of the extra Isola row (default auto: what this device runs best)",
    )
    parser.add_argument("--pipeline-size", type=int, default=256, help="image size of the pipeline case")
    parser.add_argument("--no-pipeline", action="store_true", help="skip the input-pipeline case")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per case")
    parser.add_argument(
        "--peer", default="on", choices=("on", "off", "only"),
        help="the side-by-side comparison with the PyTorch peer (kcolor.bench.peer): on (when torch is "
        "installed), off, or only it",
    )
    parser.add_argument("--peer-rounds", type=int, default=1, help="interleaved rounds of the comparison rows")
    parser.add_argument("--peer-compile", action="store_true", help="add a torch.compile row to the comparison")
    parser.add_argument("--peer-steps", type=int, default=5, help="timed steps of each comparison row (default 5)")
    parser.add_argument("--out", default="bench.json", help="where to write the results")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)

    if args.case:  # child process: one case, one JSON line
        case = json.loads(args.case)
        result = measure_case(case)
        print(json.dumps(result))
        return 0

    if args.steps < 1 or args.warmup < 1:
        parser.error(f"--steps and --warmup must be >= 1. Received: steps={args.steps}, warmup={args.warmup}")
    cases = _with_peer(args, [] if args.peer == "only" else build_cases(args))
    started = time.time()
    load_before = os.getloadavg()
    header = f"{'case':<28} {'size':>4} {'batch':>5} {'img/s':>8} {'step ms':>8} {'RSS MB':>8}  targets"
    print(header)
    print("-" * len(header))
    results = []
    for case in cases:
        try:
            result = _run_child(case, args.timeout)
        except subprocess.TimeoutExpired:
            result = {"error": f"timed out after {args.timeout} s"}
        if "error" not in result:
            if case.get("target_images_per_sec"):
                result["passed_speed"] = result["images_per_sec"] >= case["target_images_per_sec"]
            if case.get("target_peak_rss_mb"):
                result["passed_rss"] = result["peak_rss_mb"] <= case["target_peak_rss_mb"]
        print((_peer_row if case.get("group") == "peer" else _row)(case, result), flush=True)
        results.append({**case, **result})
    report = {
        "machine": machine_info(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "wall_time_s": time.time() - started,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "quick": args.quick,
        "results": results,
    }
    if any(r.get("group") == "peer" for r in results):
        report["peer"] = _peer_summary(results)
    scaling = scaling_summary(results)
    if scaling:
        print("\nScaling (same global batch; on one machine's cores this is overhead, not speed-up):")
        print("\n".join(f"  {line}" for line in scaling))
        report["scaling"] = scaling
    from kcolor.fs import atomic_write_json  # late, like machine_info: TensorFlow starts after the cases ran

    atomic_write_json(args.out, report)
    load_after = report["load_average_after"][0]
    print(f"\nWrote {args.out} ({report['wall_time_s']:.0f} s; load average before/after {load_before[0]:.1f}/{load_after:.1f})")
    failed = [r["label"] for r in results if "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
