"""Every notebook under notebooks/ runs headless in its smoke setting and shows every figure it tags."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    names = {p.name for p in NOTEBOOKS}
    assert {"000_stable_colorizer.ipynb", "001_flowers_six_architectures.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_smoke_setting(path, tmp_path, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and 'SETTINGS = "smoke"' in params[0].source
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend shows the figures
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    # Convention: every code cell that shows a figure carries the cell tag `figure`.
    figure_cells = [c for c in nb.cells if c.cell_type == "code" and "figure" in c.metadata.get("tags", [])]
    assert figure_cells, "tag the code cells that show a figure with the cell tag `figure`"
    blank = [
        c.source.splitlines()[0]
        for c in figure_cells
        if not any("image/png" in o.get("data", {}) for o in c.get("outputs", []))
    ]
    assert not blank, f"figure cells that produced no image: {blank}"
    assert any(Path(tmp_path, "runs").rglob("colorizer.keras"))
    assert os.listdir(tmp_path)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_cells_that_draw_are_tagged_figure(path):
    nb = nbformat.read(path, as_version=4)
    untagged = [
        c.source.splitlines()[0]
        for c in nb.cells
        if c.cell_type == "code"
        and any(call in c.source for call in ("plt.show(", "display(Image(", "plt.subplots("))
        and "figure" not in c.metadata.get("tags", [])
    ]
    assert not untagged, f"cells that draw a figure but lack the `figure` tag: {untagged}"
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks without outputs"
