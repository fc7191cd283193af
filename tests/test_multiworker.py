"""Multi-worker training: two local workers (`MultiWorkerMirroredStrategy`) on records shards.

One test, four subprocess stages (each bounded in time, every worker process killed
whatever happens, by `kcolor.bench.cluster`):

1. two workers on 127.0.0.1 (`TF_CONFIG`, `--set strategy=multiworker`) train the
   default Pix2Pix at 32 px for 3 GAN steps (one epoch of 2 steps with validation,
   then 1 step) on 4 train shards; each reads its own 2 shards (auto-shard FILE);
2. the run folder holds the chief's files only, and the worker's temporary
   checkpoint folder is gone;
3. one process: a reference run with the same global batch, fed the same examples in
   the same grouping, and the 2-worker checkpoint resumed under the default strategy;
4. the reference's 1-process checkpoint resumed by two workers for one more step.

The reference runs `MirroredStrategy` over 2 logical CPUs, because what a replica
computes depends on its own share of the batch: BatchNorm normalises each replica's 2
images with their own statistics, and the dropout masks are drawn per replica. A
default-strategy run (BatchNorm over all 4 images) trains other weights; that is not
a tolerance matter. Global batch `k` of the reference is worker 0's step-`k` examples
followed by worker 1's (what tf.data's FILE auto-shard gave each worker), so replica
`r` of the reference computes on exactly what worker `r` computed on. Left to differ:
the cross-replica sums (a ring all-reduce over gRPC against a local sum); with two
replicas both add the same two numbers, so the weights come out equal to
`WEIGHT_ATOL` (measured: bitwise equal).
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

from kcolor.data import write_records
from kcolor.bench.cluster import run_local_cluster
from kcolor.training.resume import TIMING_KEYS

STEPS = 3
WEIGHT_ATOL = 1e-6  # measured: 0 (bitwise equal)
COMMON = [
    "model=pix2pix", "image_size=32", "batch_size=4", "base_filters=8", "sample_images=2",
    "epochs=2", "steps_per_epoch=2", "val_steps=2", "seed=5",
]
CHIEF_FILES = {
    "config.json", "model.json", "checkpoints", "tb", "history.json", "history.csv",
    "loss_curve.png", "samples.png", "colorizer.keras",
}

WORKER = textwrap.dedent(
    """
    import json, sys
    from kcolor.config import apply_overrides
    from kcolor.configs import get_config
    from kcolor.training.loop import train

    records, run_dir, sets, max_steps = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
    cfg = apply_overrides(get_config("sample"), sets + ["strategy=multiworker", f"data=records:{records}"])
    result = train(cfg, run_dir=run_dir, max_steps=max_steps, verbose=1)
    print("RESULT " + json.dumps({k: result[k] for k in ("step", "history", "weights_sha256")}))
    """
)

REFERENCE = textwrap.dedent(
    """
    import dataclasses, json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from tensorflow.python.data.experimental.ops.distribute import _AutoShardDataset
    from kcolor.config import apply_overrides
    from kcolor.configs import get_config
    from kcolor.data import build_datasets
    from kcolor.training.loop import train

    records, chief_run, ref_run, sets = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])

    def cfg(strategy):
        return apply_overrides(get_config("sample"), sets + [f"strategy={strategy}", f"data=records:{records}"])

    def weights(run):
        return keras.saving.load_model(f"{run}/colorizer.keras", safe_mode=True).get_weights()

    # What each worker trained on: its FILE-sharded stream (tf.data's own rewrite), two
    # examples a step; the reference's global batch k is worker 0's then worker 1's.
    bundle = build_datasets(cfg("mirrored"))
    stream = bundle.train_from(0, num_workers=2)
    shares = [_AutoShardDataset(stream, 2, w, num_replicas=2).unbatch().batch(2) for w in (0, 1)]
    joined = tf.data.Dataset.zip(tuple(shares)).map(lambda a, b: {k: tf.concat([a[k], b[k]], 0) for k in a})
    data = dataclasses.replace(bundle, train=joined, train_from=None)  # the joined stream in place of its own
    ref = train(cfg("mirrored"), run_dir=ref_run, max_steps=%d, verbose=0, bundle=data)
    chief_w, ref_w = weights(chief_run), weights(ref_run)
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(chief_w, ref_w))

    # The 2-worker checkpoint, resumed by one process (default strategy): restored bitwise.
    resumed = train(cfg("default"), run_dir=chief_run, max_steps=%d, verbose=0)
    same = all(np.array_equal(a, b) for a, b in zip(chief_w, weights(chief_run)))
    print(json.dumps({"max_weight_diff": diff, "ref_history": ref["history"], "resumed_step": resumed["step"],
                      "resumed_same": same}))
    """ % (STEPS, STEPS)
)


def _untimed(rows):
    return [{k: v for k, v in row.items() if k not in TIMING_KEYS} for row in rows]


def _result(stdout):
    line = next(line for line in reversed(stdout.splitlines()) if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_two_workers_train_like_one_process_and_only_the_chief_writes(tmp_path):
    manifest = write_records("sample", "s", out_dir=str(tmp_path), num_shards=4, image_size=32, verbose=False)
    assert len(manifest["shards"]["train"]) == 4
    records, run = str(tmp_path / "s"), str(tmp_path / "run")
    worker_tmp = tmp_path / "worker_tmp"
    worker_tmp.mkdir()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TMPDIR": str(worker_tmp)}
    results = run_local_cluster(
        [sys.executable, "-c", WORKER, records, run, json.dumps(COMMON), str(STEPS)], workers=2, timeout=300, env=env
    )
    chief, worker = (_result(r.stdout) for r in results)

    # The strategy line names each task and both batches; each worker reads its own shards.
    for index, r in enumerate(results):
        assert f"task worker:{index}): global batch 4, per-replica batch 2" in r.stdout, r.stdout[-2000:]
        assert "auto-shard FILE" in r.stdout
    assert "writes nothing to the run folder" in results[1].stdout
    # Both workers end with the same weights, after the same steps.
    assert chief["step"] == worker["step"] == STEPS
    assert chief["weights_sha256"] == worker["weights_sha256"]
    # Losses and validation are reduced over both workers: the same history (timings aside).
    assert _untimed(chief["history"]) == _untimed(worker["history"])

    # Only the chief wrote the run folder; the worker's temporary checkpoints are gone.
    assert set(os.listdir(run)) == CHIEF_FILES
    assert len([f for f in os.listdir(os.path.join(run, "tb")) if "tfevents" in f]) == 1
    assert sorted(f for f in os.listdir(os.path.join(run, "checkpoints")) if f.endswith(".index")) == [
        "ckpt-2.index", "ckpt-3.index"
    ]
    assert list(worker_tmp.iterdir()) == []

    proc = subprocess.run(
        [sys.executable, "-c", REFERENCE, records, run, str(tmp_path / "ref"), json.dumps(COMMON)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"2 workers against the 1-process reference: max weight difference {out['max_weight_diff']:.3g}")
    assert out["max_weight_diff"] <= WEIGHT_ATOL, out["max_weight_diff"]
    # The chief's validation is the global mean: a worker's own half of the images would differ.
    ref_val, chief_val = out["ref_history"][0]["val_loss"], chief["history"][0]["val_loss"]
    np.testing.assert_allclose(chief_val, ref_val, rtol=1e-5)
    assert out["resumed_step"] == STEPS and out["resumed_same"]

    # The other way: the 1-process checkpoint (the reference's, 2 logical CPUs) resumed by
    # two workers for one more step. Both restore it and end on the same weights.
    ref_run = str(tmp_path / "ref")
    results = run_local_cluster(
        [sys.executable, "-c", WORKER, records, ref_run, json.dumps(COMMON), str(STEPS + 1)], workers=2,
        timeout=300, env=env,
    )
    for r in results:  # each worker restored the 1-process checkpoint (a fresh start would print nothing)
        assert f": step {STEPS}, epoch 1" in r.stdout, r.stdout[-2000:]
    first, second = (_result(r.stdout) for r in results)
    assert first["step"] == second["step"] == STEPS + 1
    assert first["weights_sha256"] == second["weights_sha256"]
    assert _untimed(first["history"])[0] == _untimed(out["ref_history"])[0]  # epoch 1 came from the checkpoint
    assert list(worker_tmp.iterdir()) == []
