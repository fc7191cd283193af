"""scripts/run_notebook.py (`make demo`): the setting is injected, `--fresh` starts from scratch, the copy is whole.

A two-cell notebook stands in for the real ones (their demo settings take minutes); the
script's project root is pointed at a temporary folder, so no run folder of the checkout
is touched.
"""

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "run_notebook.py"


@pytest.fixture
def run_notebook(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("run_notebook", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    return module


def _notebook(tmp_path):
    """`990_check.ipynb`: lists its run folder's files (as JSON), then adds one."""
    params = nbformat.v4.new_code_cell('SETTINGS = "smoke"  # "smoke" | "demo"', metadata={"tags": ["parameters"]})
    body = nbformat.v4.new_code_cell(
        "import json, pathlib\n"
        "root = pathlib.Path(RUN_ROOT)\n"
        "root.mkdir(parents=True, exist_ok=True)\n"
        "print(json.dumps([SETTINGS, sorted(p.name for p in root.iterdir())]))\n"
        "(root / 'written_by_the_run').write_text('x')\n"
    )
    path = tmp_path / "990_check.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[params, body]), path)
    return path


def _printed(target):
    nb = nbformat.read(target, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    return nb, json.loads("".join(o.get("text", "") for o in outputs if o.output_type == "stream"))


def test_fresh_deletes_the_settings_run_folders_and_a_rerun_without_it_resumes(run_notebook, tmp_path):
    path = _notebook(tmp_path)
    run_root = tmp_path / "runs" / "notebook-990-demo"
    run_root.mkdir(parents=True)
    (run_root / "left_by_an_older_run").write_text("old")
    other = tmp_path / "runs" / "notebook-990-smoke"  # another setting's folder: never touched
    other.mkdir()

    target = run_notebook.run(path, "demo", tmp_path / "out", fresh=True)
    nb, printed = _printed(target)
    assert printed == ["demo", []], "the injected setting ran, in an emptied run folder"
    assert nb.metadata["kcolor"]["settings"] == "demo" and nb.metadata["kcolor"]["wall_time_s"] >= 0
    assert target == tmp_path / "out" / "990_check.demo.ipynb"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [target.name], "no temporary file left"
    assert other.is_dir()

    target = run_notebook.run(path, "demo", tmp_path / "out")  # no --fresh: the run folder is kept
    assert _printed(target)[1] == ["demo", ["written_by_the_run"]]


def test_a_setting_the_notebook_does_not_name_is_refused_before_anything_runs(run_notebook, tmp_path):
    path = _notebook(tmp_path)
    with pytest.raises(SystemExit, match="has no setting 'paper'"):
        run_notebook.run(path, "paper", tmp_path / "out", fresh=True)
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()
