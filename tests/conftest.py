import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

from tests.browser import chromium  # noqa: E402,F401  (the headless browser fixture)
