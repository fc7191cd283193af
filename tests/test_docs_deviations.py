"""The README's deviations table is read from the paper recipes' docstrings and agrees with them."""

import os

import pytest

from kcolor.configs.deviations import (
    HEADER,
    PAPER_MODULES,
    README_BEGIN,
    README_END,
    deviations,
    parse_section,
    render_markdown,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_readme_table_is_the_one_the_docstrings_give():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    block = text.split(README_BEGIN, 1)[1].split(README_END, 1)[0]
    assert block == "\n" + render_markdown(), "README is stale: run python scripts/docs_deviations.py"


def test_every_paper_names_its_deviations():
    found = deviations()
    assert {d.paper for d in found} == set(PAPER_MODULES)
    for paper in PAPER_MODULES:
        assert len([d for d in found if d.paper == paper]) >= 3, paper
    # The loss weight Paper 004 leaves to its equation is one of them.
    assert any(d.paper == "004" and "recon_reduction" in d.text for d in found)


def test_a_section_must_exist_and_every_bullet_name_its_topic():
    doc = f"Intro.\n\n{HEADER}\n- Split: by hash,\n  the same everywhere.\n- Batch: 16.\n\nMore text.\n"
    assert parse_section(doc) == [("Split", "by hash, the same everywhere."), ("Batch", "16.")]
    with pytest.raises(ValueError, match="no section headed"):
        parse_section("Intro only.", owner="kcolor.configs.x")
    with pytest.raises(ValueError, match="must read '- Topic: text'"):
        parse_section(f"{HEADER}\n- a bullet without a topic\n")
