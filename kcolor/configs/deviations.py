"""Every paper recipe's remaining deviations from its paper, read from the recipes themselves.

Each paper's recipe module (`PAPER_MODULES`) names what it could not or did not follow
in a section of its docstring headed `HEADER`, one bullet per topic:

    Every remaining deviation from the paper, and why:
    - Split: the paper splits 80/20 without saying how; kcolor ...
      (continuation lines indented two spaces)

`deviations()` reads those bullets and `render_markdown()` makes the README's table of
them (`scripts/docs_deviations.py` writes it between `README_BEGIN` and `README_END`), so
the table and the docstrings can never disagree: a test compares them.

Example:
    from kcolor.configs.deviations import deviations
    [d.topic for d in deviations() if d.paper == "002"]   # ['Data', 'Optimizer', ...]
"""

import dataclasses
import importlib

HEADER = "Every remaining deviation from the paper, and why:"
PAPER_MODULES = {
    "000": "kcolor.configs.stable",
    "001": "kcolor.configs.flowers",
    "002": "kcolor.configs.cgan_lab",
    "003": "kcolor.configs.kmhcnet",
    "004": "kcolor.configs.vit_i_gan",
}
README_BEGIN = "<!-- deviations:begin -->"
README_END = "<!-- deviations:end -->"


@dataclasses.dataclass(frozen=True)
class Deviation:
    paper: str  # "000" .. "004"
    module: str  # the recipe module whose docstring names it
    topic: str  # what it is about ("Split", "Data", ...)
    text: str  # kcolor's choice and why, one line


def parse_section(doc, owner="docstring") -> list:
    """`[(topic, text)]` of the `HEADER` section of `doc`; ValueError naming `owner` when it is
    missing or a bullet has no `Topic: ` prefix."""
    lines = doc.splitlines()
    if HEADER not in lines:
        raise ValueError(f"{owner} has no section headed {HEADER!r}")
    bullets = []
    for line in lines[lines.index(HEADER) + 1:]:
        if line.startswith("- "):
            bullets.append(line[2:].strip())
        elif line.startswith("  ") and bullets:
            bullets[-1] += " " + line.strip()
        else:
            break
    if not bullets:
        raise ValueError(f"{owner}: the section {HEADER!r} lists no deviation")
    parsed = []
    for bullet in bullets:
        topic, sep, text = bullet.partition(": ")
        if not sep or len(topic) > 40:
            raise ValueError(f"{owner}: a deviation must read '- Topic: text'. Received: {bullet[:80]!r}")
        parsed.append((topic, text))
    return parsed


def deviations() -> list:
    """Every paper's deviations, paper by paper, in the order each docstring gives them."""
    found = []
    for paper, name in PAPER_MODULES.items():
        module = importlib.import_module(name)
        for topic, text in parse_section(module.__doc__ or "", owner=name):
            found.append(Deviation(paper, name.rsplit(".", 1)[-1], topic, text))
    return found


def _cell(text):
    return text.replace("|", "\\|")


def render_markdown(found=None) -> str:
    """The README's table: paper, recipe module, topic, kcolor's choice and why."""
    found = deviations() if found is None else found
    lines = ["| paper | recipes | topic | kcolor's choice, and why |", "|---|---|---|---|"]
    lines += [f"| {d.paper} | `kcolor.configs.{d.module}` | {_cell(d.topic)} | {_cell(d.text)} |" for d in found]
    return "\n".join(lines) + "\n"


__all__ = ["HEADER", "PAPER_MODULES", "Deviation", "deviations", "parse_section", "render_markdown"]
