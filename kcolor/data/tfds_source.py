"""The `tfds:NAME[:split]` source: tensorflow-datasets' own builder and reader, offline-safe.

`tfds:NAME` reads every split the dataset has and re-splits all examples by a hash of
their `tfds_id` with the config's fractions (Paper 001 wants 60/20/20 over all of
Oxford Flowers 102, not tfds' 1020/1020/6149). `tfds:NAME:SPLIT` reads that split only
(any tfds split expression, e.g. `train`, `train+validation`, `train[:10%]`) and
re-splits it the same way.

A dataset that is not prepared in the data dir is downloaded with
`builder.download_and_prepare(download_config=DownloadConfig(manual_dir=...))` when
`cfg.download` is true. Offline, tfds itself would retry for minutes, so kcolor first
opens a TCP connection (3 s timeout) to each host the dataset downloads from (from the
dataset's checksums file, else tfds' mirror `storage.googleapis.com`) and stops with
`DataSourceError` at once if one cannot be reached. The message names the dataset,
the data dir it looked in and the three ways to supply the files.

Example:
    raw = load_tfds("oxford_flowers102", None, split=(0.6, 0.2, 0.2))
    raw.counts   # {"train": ..., "val": ..., "test": ...}
"""

import os
import socket
import threading
import time
import urllib.parse

import tensorflow as tf

from kcolor import fs
from kcolor.data.raw import AUTOTUNE, DataSourceError, RawData, split_index
from kcolor.specs import SPLITS

CONNECT_TIMEOUT = 3.0
STALL_TIMEOUT_S = 30.0  # a download making no progress this long is stopped
_POLL_S = 0.25
# CPU seconds that count as progress (a busy step that does no I/O); a thread that only
# wakes now and then while a read waits uses far less.
_CPU_PROGRESS_S = 0.2
FALLBACK_HOSTS = ("storage.googleapis.com",)
_MAX_HOSTS = 4


def _tfds():
    import tensorflow_datasets as tfds

    return tfds


def default_data_dir():
    return _tfds().core.constants.DATA_DIR


def _download_is_real():
    """Whether `download_and_prepare` is tfds' own (it reaches the network).

    `tfds.testing.mock_data()` replaces it with a no-op from `tensorflow_datasets.testing`;
    a mocked builder needs no network, so it must not be refused for being offline.
    """
    method = _tfds().core.DatasetBuilder.download_and_prepare
    return getattr(method, "__module__", "") == "tensorflow_datasets.core.dataset_builder"


def download_hosts(builder) -> list:
    """The hosts a dataset downloads from (its checksums file), else tfds' GCS mirror."""
    hosts = []
    try:
        url_infos = type(builder).url_infos or {}
    except Exception:  # tfds needs optional packages (importlib_resources) to read them
        url_infos = {}
    for url in url_infos:
        host = urllib.parse.urlparse(url).hostname
        if host and host not in hosts:
            hosts.append(host)
    return hosts[:_MAX_HOSTS] or list(FALLBACK_HOSTS)


def _connect(host, port, timeout, results):
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        results[host] = None
    except OSError as err:
        results[host] = f"{type(err).__name__}: {err}"


def unreachable_hosts(hosts, port=443, timeout=CONNECT_TIMEOUT) -> dict:
    """{host: reason} for every host that does not accept a TCP connection within `timeout`.

    Each host is tried in its own thread and the whole check is bounded by `timeout`
    plus one second, because name resolution itself has no timeout.
    """
    results = {}
    threads = [threading.Thread(target=_connect, args=(h, port, timeout, results), daemon=True) for h in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 1.0)
    return {h: results.get(h, f"no answer within {timeout:.0f} s") for h in hosts if results.get(h, "") is not None}


def _how_to_supply(name, data_dir):
    return (
        f"Supply the files in one of these ways: "
        f"(1) prepare '{name}' with tensorflow-datasets on a machine with network and copy its folder "
        f"into a data dir, then pass --set data_dir=DIR; "
        f"(2) put the dataset's downloaded archives in tfds' manual dir DIR/downloads/manual and pass "
        f"--set data_dir=DIR; "
        f"(3) turn an image folder into shards with `kcolor make-records folder:PATH --name NAME` "
        f"and train with DATA=records:tf_records/NAME (or read it directly with DATA=folder:PATH)."
    )


def _manual_dir(data_dir):
    return fs.join(data_dir, "downloads", "manual")


def _has_manual_files(builder, manual_dir):
    return bool(getattr(builder, "MANUAL_DOWNLOAD_INSTRUCTIONS", None)) and fs.isdir(manual_dir) and bool(
        fs.listdir(manual_dir)
    )


def _progress_marks(pid, folder):
    """`(io, cpu)`: what changes while a process makes progress.

    `io` is its I/O byte counters (Linux `/proc/PID/io`: bytes read from sockets and
    files, bytes written), elsewhere the sizes and times of the files under `folder`;
    `cpu` is its CPU time in seconds (None where `/proc` is absent).
    """
    io, cpu = None, None
    try:
        with open(f"/proc/{pid}/io") as fh:
            io = tuple(line for line in fh.read().splitlines() if line.startswith(("rchar", "wchar")))
        with open(f"/proc/{pid}/stat") as fh:
            utime, stime = fh.read().rsplit(")", 1)[-1].split()[11:13]
        cpu = (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        pass
    if io is None:
        total = 0
        for root, _, files in os.walk(folder):
            for fname in files:
                try:
                    info = os.stat(os.path.join(root, fname))
                except OSError:
                    continue
                total += info.st_size + info.st_mtime_ns
        io = (total,)
    return io, cpu


# The watched child: imports `module:function`, calls it, and on failure writes the error
# (type, first line, missing module) as JSON to the result file. It imports nothing of
# kcolor's, so a stand-in target starts in a fraction of a second.
_CHILD = """
import importlib, json, sys
spec = json.loads(sys.argv[1])
sys.path[:0] = spec["path"]
module, _, name = spec["target"].partition(":")
try:
    getattr(importlib.import_module(module), name)(*spec["args"])
except BaseException as err:
    with open(spec["result"], "w") as fh:
        lines = str(err).strip().splitlines() or [""]
        json.dump({"kind": type(err).__name__, "message": lines[0][:500], "name": getattr(err, "name", None)}, fh)
    sys.exit(3)
"""


def run_watched(target, args, *, watch_dir, stall_timeout=STALL_TIMEOUT_S, what="the download"):
    """Run `target(*args)` in a child process; stop it when it makes no progress.

    Progress is any change of `_progress_marks` (the child's I/O counters, else the
    files under `watch_dir`) or `_CPU_PROGRESS_S` of its CPU time. After
    `stall_timeout` seconds without progress the child is killed and `TimeoutError` is
    raised. A failure in the child comes back as `RuntimeError` (`ModuleNotFoundError`
    for a missing package) with its first line. The child is a fresh interpreter
    running only `target` (never a re-import of the caller's script); its output goes
    to this process's terminal, so tfds' progress bars show.

    Args:
        target: a module-level function, or its name as "module:function".
        args: its arguments (JSON values).
        watch_dir: a folder whose files grow while the work progresses.
        stall_timeout: seconds without progress before the child is stopped.
        what: how messages name the work.

    Example:
        run_watched(_download_and_prepare, ["mnist", "/data/tfds", "/data/tfds/downloads/manual"],
                    watch_dir="/data/tfds")
    """
    import json
    import subprocess
    import sys
    import tempfile

    try:
        stall_timeout = float(stall_timeout)
    except (TypeError, ValueError):
        stall_timeout = 0.0
    if not stall_timeout > 0:
        raise ValueError(f"stall_timeout must be a number of seconds > 0. Received: stall_timeout={stall_timeout!r}")
    if callable(target):
        target = f"{target.__module__}:{target.__qualname__}"
    with tempfile.TemporaryDirectory(prefix="kcolor-watch-") as tmp:
        result = os.path.join(tmp, "error.json")
        spec = {"target": target, "args": list(args), "result": result, "path": [p for p in sys.path if p]}
        process = subprocess.Popen([sys.executable, "-c", _CHILD, json.dumps(spec)])
        try:
            marks, last_change = None, time.monotonic()
            while process.poll() is None:
                io, cpu = _progress_marks(process.pid, watch_dir)
                now = time.monotonic()
                if marks is None or io != marks[0] or (cpu is not None and cpu - marks[1] >= _CPU_PROGRESS_S):
                    marks, last_change = (io, cpu if cpu is not None else 0.0), now
                elif now - last_change > stall_timeout:
                    raise TimeoutError(f"{what} made no progress for {stall_timeout:g} s and was stopped")
                time.sleep(_POLL_S)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if process.returncode == 0:
            return
        error = {"kind": "exit", "message": f"the process ended with exit code {process.returncode}", "name": None}
        if os.path.exists(result):
            with open(result) as fh:
                error = json.load(fh)
    if error["kind"] == "ModuleNotFoundError":
        raise ModuleNotFoundError(error["message"], name=error["name"])
    raise RuntimeError(f"{error['kind']}: {error['message']}")


def _download_and_prepare(name, data_dir, manual_dir):
    """The child process of `prepare_builder`: tfds' own download and prepare."""
    tfds = _tfds()
    builder = tfds.builder(name, data_dir=data_dir)
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))


# The function the watched child runs (a module attribute, so a test can put a stand-in here).
DOWNLOAD_TARGET = _download_and_prepare


def prepare_builder(name, *, data_dir=None, download=True, stall_timeout=None):
    """A tfds builder whose data is ready to read, or a `DataSourceError` within seconds.

    A real download runs in a watched child process and is stopped after
    `stall_timeout` seconds without progress (default `STALL_TIMEOUT_S`; see the
    module docstring).
    """
    tfds = _tfds()
    stall_timeout = STALL_TIMEOUT_S if stall_timeout is None else stall_timeout
    data_dir = os.path.expanduser(data_dir) if data_dir else default_data_dir()
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as err:
        first_line = str(err).strip().splitlines()[0]
        raise ValueError(f"Unknown tensorflow-datasets dataset '{name}': {first_line}") from None
    if builder.is_prepared():
        return builder
    looked_in = f"data dir {data_dir} (looked for {builder.data_path})"
    if not download:
        raise DataSourceError(
            f"tfds dataset '{name}' is not prepared in {looked_in} and downloading is off "
            f"(download=false). {_how_to_supply(name, data_dir)}"
        )
    manual_dir = _manual_dir(data_dir)
    if _download_is_real() and not _has_manual_files(builder, manual_dir):
        hosts = download_hosts(builder)
        down = unreachable_hosts(hosts)
        if down:
            reasons = "; ".join(f"{h}: {why}" for h, why in down.items())
            raise DataSourceError(
                f"tfds dataset '{name}' is not prepared in {looked_in} and cannot be downloaded: "
                f"its download host is unreachable ({reasons}). {_how_to_supply(name, data_dir)}"
            )
    try:
        if _download_is_real():
            fs.makedirs(data_dir)  # a gs:// data_dir too (tfds writes through gfile)
            run_watched(
                DOWNLOAD_TARGET, [name, data_dir, manual_dir], watch_dir=data_dir, stall_timeout=stall_timeout,
                what=f"downloading tfds dataset '{name}'",
            )
            builder = tfds.builder(name, data_dir=data_dir)  # reads what the child prepared
        else:  # tfds.testing.mock_data: nothing to download
            builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))
    except TimeoutError as err:
        raise DataSourceError(
            f"tfds dataset '{name}': {err} (it was writing to {data_dir}). The network or the server stopped "
            f"sending: try again later, check the network or proxy (HTTPS_PROXY), or skip the download. "
            f"{_how_to_supply(name, data_dir)}"
        ) from None
    except RuntimeError as err:
        raise DataSourceError(
            f"tfds dataset '{name}' could not be downloaded and prepared in {data_dir} ({err}). "
            f"{_how_to_supply(name, data_dir)}"
        ) from None
    except ModuleNotFoundError as err:
        # tensorflow-datasets 4.9 imports importlib_resources lazily without requiring it.
        raise DataSourceError(
            f"tfds dataset '{name}' cannot be prepared: tensorflow-datasets needs the Python package "
            f"'{err.name}' to download and prepare datasets (pip install {err.name}). "
            f"{_how_to_supply(name, data_dir)}"
        ) from err
    return builder


def _image_key(builder) -> str:
    tfds = _tfds()
    features = builder.info.features
    image_keys = [k for k, f in features.items() if isinstance(f, tfds.features.Image)]
    if not image_keys:
        raise DataSourceError(
            f"tfds dataset '{builder.name}' has no top-level image feature (features: {', '.join(features)}); "
            f"kcolor needs one image per example"
        )
    return "image" if "image" in image_keys else image_keys[0]


def _source_splits(builder, tfds_split):
    if tfds_split:
        return [tfds_split]
    names = list(builder.info.splits.keys())
    # A mocked builder (tfds.testing.mock_data) knows no split names: read "train".
    return names or ["train"]


def load_tfds(name, tfds_split=None, *, split=(0.6, 0.2, 0.2), data_dir=None, download=True) -> RawData:
    """Raw per-split datasets of a tensorflow-datasets dataset, re-split by hash of `tfds_id`."""
    tfds = _tfds()
    builder = prepare_builder(name, data_dir=data_dir, download=download)
    image_key = _image_key(builder)
    read_config = tfds.ReadConfig(add_tfds_id=True, try_autocache=False)
    source_splits = _source_splits(builder, tfds_split)
    datasets = []
    for source_split in source_splits:
        try:
            ds = builder.as_dataset(
                split=source_split,
                shuffle_files=False,
                read_config=read_config,
                decoders={image_key: tfds.decode.SkipDecoding()},
            )
        except (ValueError, KeyError) as err:
            valid = ", ".join(builder.info.splits.keys()) or "(unknown)"
            raise ValueError(
                f"tfds dataset '{name}' has no split '{source_split}' ({err}). Valid splits: {valid}"
            ) from None
        datasets.append(ds.map(lambda ex: {"id": ex["tfds_id"], "image": ex[image_key]}, num_parallel_calls=AUTOTUNE))
    raw = datasets[0]
    for ds in datasets[1:]:
        raw = raw.concatenate(ds)

    # One pass over the ids (images stay encoded) counts each split.
    counts = {s: 0 for s in SPLITS}
    index_ds = raw.map(lambda ex: split_index(ex["id"], split), num_parallel_calls=AUTOTUNE)
    for index in index_ds.batch(4096).as_numpy_iterator():
        for i, n in zip(*tf.unique_with_counts(tf.constant(index))[::2]):
            counts[SPLITS[int(i)]] += int(n)

    splits = {}
    for position, split_name in enumerate(SPLITS):
        splits[split_name] = raw.filter(lambda ex, p=position: tf.equal(split_index(ex["id"], split), p))
    info = {
        "tfds_name": name,
        "tfds_splits": source_splits,
        "data_dir": builder.data_dir,
        "image_feature": image_key,
        "split_rule": "hash",
    }
    return RawData(splits, counts, "single", info, [])
