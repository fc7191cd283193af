"""Keep TensorFlow's C++ log lines out of a command's output.

TensorFlow prints lines such as `Could not find cuda drivers`, `failed call to cuInit`,
`This TensorFlow binary is optimized to use ...`, oneDNN notices and absl's
`All log messages before absl::InitializeLog() ...` on every CPU machine. Some come
from C++ static initialisers before `TF_CPP_MIN_LOG_LEVEL` is read, so setting that
variable alone does not hide them. `quiet_tensorflow()` therefore sets
`TF_CPP_MIN_LOG_LEVEL=2` and imports TensorFlow (and lists its devices, which runs the
CUDA probe) with the process's stderr file descriptor pointed at a temporary file; it
then writes back every captured line that is not a TensorFlow C++ log line (Python
warnings and errors stay visible). absl's Python logger is set to errors only.

oneDNN's optimisations stay on (`TF_ENABLE_ONEDNN_OPTS` is not touched): on CPUs with
AMX they are what makes bfloat16 several times faster than float32; only their notice
is hidden.

`KCOLOR_TF_LOGS=1` in the environment (or the CLI's `--verbose-tf`) turns all of this
off and shows TensorFlow's logs as they come.

Example:
    quiet_tensorflow()      # before anything imports tensorflow
"""

import os
import re
import sys
import tempfile

ENV_SHOW = "KCOLOR_TF_LOGS"

# A TensorFlow / absl C++ log line: "I0000 00:00:1796161251.113432   15039 file.cc:31] ..."
_CPP_LOG = re.compile(r"^[IWEF]\d{4} \d{2}:\d{2}:\d+\.\d+\s+\d+ [\w./-]+:\d+\] ")
_NOISE = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "To enable the following instructions:",
    "oneDNN custom operations are on",
)


def is_tensorflow_log_line(line: str) -> bool:
    """True for a TensorFlow/absl C++ log line or one of its known continuation lines."""
    return bool(_CPP_LOG.match(line)) or any(line.startswith(n) for n in _NOISE)


def show_logs_requested() -> bool:
    return os.environ.get(ENV_SHOW, "").strip().lower() in ("1", "true", "yes", "on")


def quiet_tensorflow(show=None):
    """Import TensorFlow with its C++ start-up logs filtered out (unless `show` / KCOLOR_TF_LOGS=1)."""
    if show is None:
        show = show_logs_requested()
    if show or "tensorflow" in sys.modules:
        if not show:
            _quiet_absl()
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        stderr_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no real stderr (embedded, captured)
        stderr_fd = None
    if stderr_fd is None:
        import tensorflow  # noqa: F401

        _quiet_absl()
        return
    sys.stderr.flush()
    saved = os.dup(stderr_fd)
    failed = False
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), stderr_fd)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # the CUDA probe logs here
        except BaseException:
            failed = True
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, stderr_fd)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
            if failed:  # TensorFlow did not import: show everything it said
                sys.stderr.write(text)
    kept = [line for line in text.splitlines() if line.strip() and not is_tensorflow_log_line(line)]
    if kept:
        sys.stderr.write("\n".join(kept) + "\n")
    _quiet_absl()


def _quiet_absl():
    try:
        from absl import logging as absl_logging
    except ImportError:
        return
    absl_logging.set_verbosity(absl_logging.ERROR)


__all__ = ["ENV_SHOW", "is_tensorflow_log_line", "quiet_tensorflow"]
