"""The README's benchmark numbers are the committed results file's: its block is exactly what
`render_readme` makes of docs/benchmark/results.json, and the pictures it shows exist."""

import json
import re
from pathlib import Path

from kcolor.benchmark.report import README_BEGIN, README_END, render_readme

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "benchmark" / "results.json"


def _block(text):
    assert README_BEGIN in text and README_END in text, "the README lost its benchmark block"
    return text.split(README_BEGIN, 1)[1].split(README_END, 1)[0].strip("\n")


def test_the_readme_benchmark_block_is_rendered_from_the_committed_results():
    results = json.loads(RESULTS.read_text())
    assert _block((ROOT / "README.md").read_text()) == render_readme(results).strip("\n")


def test_the_pictures_the_readme_shows_exist():
    text = (ROOT / "README.md").read_text()
    for path in re.findall(r"\]\((docs/benchmark/[^)]+\.png)\)", text):
        assert (ROOT / path).is_file(), path
