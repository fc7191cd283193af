"""The house rules of ARCHITECTURE.md, checked on the source.

- the import floors and the no-cycle rule hold (import-linter's contracts in setup.cfg,
  which read function-level imports too);
- no function or method is longer than `MAX_FUNCTION_LINES`, no class longer than
  `MAX_CLASS_LINES`;
- the product holds no test hooks: nothing in kcolor/ names an environment variable
  with TEST in it;
- no module imports the package root `kcolor` (its `__init__` sits on the top floor).
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kcolor"

MAX_FUNCTION_LINES = 100
MAX_CLASS_LINES = 300
# unit -> why it may be longer; keep this empty unless a split would hurt the reader.
ALLOWED_LONG_UNITS: dict = {}


def _sources():
    return sorted(PACKAGE.rglob("*.py"))


def _units(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node, node.end_lineno - node.lineno + 1


def test_import_floors_and_no_cycles_hold():
    proc = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()", "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and "BROKEN" not in proc.stdout, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_no_unit_is_too_long():
    too_long = []
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        for node, lines in _units(path):
            limit = MAX_CLASS_LINES if isinstance(node, ast.ClassDef) else MAX_FUNCTION_LINES
            key = f"{rel}:{node.name}"
            if lines > limit and key not in ALLOWED_LONG_UNITS:
                too_long.append(f"{key} is {lines} lines (limit {limit})")
    assert not too_long, "\n".join(too_long)


def test_the_length_check_can_fail(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES + 1))
    path = tmp_path / "long.py"
    path.write_text(f"def long():\n{body}\n")
    assert [lines for _, lines in _units(path)] == [MAX_FUNCTION_LINES + 2]


def test_product_reads_no_test_environment_variable():
    pattern = re.compile(r"""["'][A-Z0-9_]*TEST[A-Z0-9_]*["']""")
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in _sources()
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not found, "\n".join(found)


def test_no_module_imports_the_package_root():
    found = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import) and any(a.name == "kcolor" for a in node.names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module == "kcolor" and node.level == 0:
                if any(a.name == "__version__" for a in node.names):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, "import kcolor._version or the module that owns the name instead: " + ", ".join(found)
