"""`kcolor benchmark`: every paper's representative models trained on one data source under
one budget (image size, batch size, steps), scored on one frozen test split with baselines.

    kcolor benchmark --data sample --size 64 --steps 150
    make benchmark DATA=sample STEPS=150

Modules: `roster` (the table of models and the configs they start from, the default
budget), `baselines` (mean chroma), `scoring` (`kcolor.evaluate` on the runs, FID if
possible), `report` (results.json, and the tables rendered from it), `figures` (a
full-resolution grid per test photo), `run` (`run_benchmark`: checks, training with
resume, then the rest).
"""

from kcolor.benchmark.run import run_benchmark  # noqa: F401
