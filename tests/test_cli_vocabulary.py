"""One meaning per word: every option that several commands share is listed in docs/cli.md."""

import argparse
import collections
import dataclasses
import re
from pathlib import Path

import pytest

from kcolor.cli.main import build_parser, main
from kcolor.config import RENAMED_FIELDS, TrainConfig

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def _shared_options():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    uses = collections.defaultdict(set)
    for command, parser in sub.choices.items():
        for action in parser._actions:
            if action.help == argparse.SUPPRESS:
                continue
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    uses[option].add(command)
    return {option: commands for option, commands in uses.items() if len(commands) > 1}


def test_every_shared_option_has_its_row_in_docs_cli_md():
    doc = DOC.read_text()
    shared = _shared_options()
    assert {"--data", "--split", "--fractions", "--out"} <= set(shared)
    missing = [f"{o} ({', '.join(sorted(c))})" for o, c in sorted(shared.items()) if f"`{o} " not in doc]
    assert not missing, "docs/cli.md has no row for: " + ", ".join(missing)


def test_split_picks_a_name_and_fractions_make_one(capsys):
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for command, names in (("evaluate", ("test", "val", "train")), ("turing-test", ("test", "val", "train"))):
        (split,) = [a for a in sub.choices[command]._actions if "--split" in a.option_strings]
        assert tuple(split.choices) == names and split.default == "test"
    assert main(["make-records", "sample", "--name", "x", "--fractions", "0.5,abc"]) == 2
    assert "--fractions must be 2 or 3 numbers like 0.6,0.2,0.2. Received: 0.5,abc" in capsys.readouterr().err


def test_old_spellings_still_work_with_one_line_naming_the_new_one(capsys, tmp_path):
    out = str(tmp_path / "records")
    assert main(["make-records", "sample", "--name", "s", "--out", out, "--split", "1,0,0", "--image-size", "32"]) == 0
    err = capsys.readouterr().err
    assert "make-records --split is deprecated" in err and "use --fractions" in err
    assert "make-records --image-size is deprecated" in err and "use --shorter-side" in err


def test_colorize_takes_colorizer_and_the_old_model_spelling_with_one_line(capsys, tmp_path):
    """`--colorizer PATH` is the trained model; `--model` (the config field's word for a registry
    name) still works for one release, and naming neither is refused before any work."""
    missing = str(tmp_path / "no_such_run")
    assert main(["colorize", "--model", missing, "x.png"]) != 0
    err = capsys.readouterr().err
    assert "colorize --model is deprecated" in err and "use --colorizer" in err and "no_such_run" in err
    assert main(["colorize", "--colorizer", missing, "x.png"]) != 0
    assert "deprecated" not in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["colorize", "x.png"])
    assert exit_.value.code == 2 and "required: --colorizer" in capsys.readouterr().err


def test_config_fields_named_in_docs_cli_md_exist_and_each_rename_has_its_old_spelling_row():
    doc = DOC.read_text()
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    named = set(re.findall(r"config field `(\w+)`", doc))
    assert {"data", "image_size", "fractions"} <= named
    assert not named - fields - set(RENAMED_FIELDS), "docs/cli.md names config fields kcolor lacks"
    old_spellings = doc.split("## Old spellings", 1)[1].splitlines()
    for old, (new, _) in RENAMED_FIELDS.items():
        assert old not in fields and new in fields
        rows = [line for line in old_spellings if line.startswith(f"| config field `{old}`")]
        assert len(rows) == 1 and f"config field `{new}`" in rows[0], f"docs/cli.md: no old-spelling row {old} -> {new}"
