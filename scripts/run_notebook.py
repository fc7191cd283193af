"""Execute a notebook in one of its settings and save it with its outputs.

    python scripts/run_notebook.py 001 --settings demo --out docs
    # -> docs/001_flowers_six_architectures.demo.ipynb

The notebook is `notebooks/<number>_*.ipynb`; the setting is injected after its
`parameters` cell (as papermill does) with `RUN_ROOT = "runs/notebook-<number>-<setting>"`,
and the kernel runs from the repository root, so each setting keeps its own run folders
(running it again resumes them; `--fresh` deletes them first, so the run time and
results are those of a run from scratch, and a changed config cannot meet an older
run folder). The run time is printed and kept in
the saved notebook's metadata (`kcolor.wall_time_s`). This is not a CI command: `demo`
settings take several minutes.
"""

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ("smoke", "demo", "paper")


def find_notebook(number):
    found = sorted((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
    if len(found) != 1:
        valid = ", ".join(p.name.split("_")[0] for p in sorted((ROOT / "notebooks").glob("*.ipynb")))
        raise SystemExit(f"error: no single notebook numbered {number!r} in notebooks/. Valid: {valid}")
    return found[0]


def run(path, settings, out_dir, timeout=1800, fresh=False):
    number = path.name.split("_")[0]
    run_root = ROOT / "runs" / f"notebook-{number}-{settings}"
    nb = nbformat.read(path, as_version=4)
    index = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    if len(index) != 1:
        raise SystemExit(f"error: {path.name} needs exactly one cell tagged 'parameters'; it has {len(index)}")
    if f'"{settings}"' not in nb.cells[index[0]].source:
        raise SystemExit(f"error: {path.name} has no setting {settings!r} (its parameters cell names the valid ones)")
    if fresh and run_root.exists():
        print(f"--fresh: deleting {run_root.relative_to(ROOT)} (the notebook's run folders)")
        shutil.rmtree(run_root)
    source = f'SETTINGS = "{settings}"\nRUN_ROOT = "{run_root.relative_to(ROOT)}"'
    injected = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(index[0] + 1, injected)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.pop("MPLBACKEND", None)  # the kernel's inline backend draws the figures
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    wall = time.perf_counter() - start
    nb.metadata.setdefault("kcolor", {})["wall_time_s"] = round(wall, 1)
    nb.metadata["kcolor"]["settings"] = settings
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{path.stem}.{settings}.ipynb"
    from kcolor.fs import atomic_write_text  # the package's one atomic writer

    atomic_write_text(target, nbformat.writes(nb))
    shown = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
    print(f"{path.name} ({settings}): {wall:.0f} s -> {shown}")
    return target


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", help="the notebook's number, e.g. 001")
    parser.add_argument("--settings", default="demo", choices=SETTINGS)
    parser.add_argument("--out", default="docs", type=Path)
    parser.add_argument("--fresh", action="store_true", help="delete the setting's run folders first (start from scratch)")
    args = parser.parse_args(argv)
    run(find_notebook(args.notebook), args.settings, ROOT / args.out, fresh=args.fresh)


if __name__ == "__main__":
    sys.exit(main())
