"""Stand-ins for tfds' download in a watched child process (`kcolor.data.tfds_source.run_watched`).

They are module-level so that a spawned child can import them by name, and they import
nothing heavy, so a child starts in a fraction of a second.
"""

import time


def stall_forever(*args):
    """A download whose connection stopped sending: it waits and does nothing."""
    while True:
        time.sleep(3600)


def trickle(path, seconds, *args):
    """A slow download: a few bytes every 0.2 s for `seconds`, then done."""
    end = time.monotonic() + float(seconds)
    with open(path, "wb") as fh:
        while time.monotonic() < end:
            fh.write(b"x" * 64)
            fh.flush()
            time.sleep(0.2)


def fail(message, *args):
    raise OSError(message)
