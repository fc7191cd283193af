"""One citation table: every registered model names a known paper, and the README and the
web page cite each paper exactly as `kcolor.papers` does."""

from pathlib import Path

import pytest

from kcolor.models.registry import get_model, list_models, register_model
from kcolor.papers import PAPERS, cite

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_paper_table_cites_each_paper_as_the_package_does():
    text = README.read_text()
    for paper_id in PAPERS:
        assert f"| {paper_id} — {cite(paper_id)} |" in text, paper_id


def test_every_paper_has_registered_models_and_the_web_page_cites_it():
    from kcolor.web.site import _paper

    papers = {get_model(name).paper for name in list_models()}
    assert papers == set(PAPERS)
    assert _paper("vit_i_gan") == cite("004") and _paper("not_a_model") == ""


def test_unknown_paper_is_refused_at_registration():
    with pytest.raises(ValueError, match="Unknown paper '009'. Valid papers: 000, 001, 002, 003, 004"):
        register_model("paper_typo_model", io="gray_rgb", trainer="supervised", paper="009")
