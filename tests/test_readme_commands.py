"""The README matches the package (issue #25): every command, config name and setting it shows
exists and does what it says.

What is read. Every fenced shell block of README.md, line by line (`!` Colab prefixes, `\\`
continuations, `&&` chains and `#` comments handled), and every inline code span that starts
with `kcolor`, `make`, `python` or `pip`. A synopsis stands for concrete lines: `[--out DIR]`
is included, `a|b|c` gives one line per alternative, `...` is dropped, and upper-case words
(`RUN_DIR`, `NAME`, `FILE.tflite`) are placeholders. docs/cli.md has no fenced blocks; its
inline commands are read the same way and its tables of options checked against the parsers.

How a line is checked, without doing its work:

- `kcolor SUB ...`: SUB is a subcommand; every `--option` is one of SUB's, spelled in full (the
  parser would take an abbreviation) and not a deprecated spelling; the line parses with
  `kcolor.cli.main.build_parser`; `--config NAME` is registered (an old alias is not enough);
  `train` and `summary` settings pass `apply_overrides` and `resolve_config`, the field checks
  that run before any data is read.
- `make TARGET VAR=value`: `make -n` (prints the recipe, runs none of it) knows TARGET; each VAR
  is one the Makefile lets the user set (`?=`, or named in its header) and its value reaches
  the printed commands; the kcolor and python lines it prints are checked like the README's.
- `python -m MODULE` / `python FILE`: the module or file exists and each `--option` is in its source.
- `pip install -e .[EXTRA]`: EXTRA is an extra of setup.cfg.
- DOCUMENTED_ERRORS, lines the README shows failing, must fail with exit status 2 and the message.

The smoke form (SMOKE): `list-models`, `list-configs` and `summary` run as written; `train` runs
with TINY appended (32 px, two steps, a temporary run folder) where it trains offline on this
CPU (not `strategy=tpu`/`multiworker`, not a bucket) and must write every file of the README's
run-folder table; `make-records` from `sample` runs at 32 px into a temporary folder for its
bucket. Every other subcommand (evaluate, evaluate-video, export, colorize, web, benchmark,
turing-test, turing-score, fetch-photos, fetch-clips, make-pairs: they need a trained run, the
network, videos or minutes), every line with placeholders and every `make` line is only
checked as above, and the subcommand's `--help` is rendered.

Names: every config and model the papers table names is registered under that paper (the range
`kmhcnet_1` ... `kmhcnet_16` expanded, `*_smoke` matching at least one of the paper's configs),
and every config of a paper is named or matched there; a backticked word elsewhere that looks
like a registry name (it starts like a config or model name, or ends in `_smoke`/`_demo`) is a
registered config or model, or a config field or model option; `--set KEY=...` spans name a
config field or model option; `kcolor.x.y` names import; repository paths exist; `KCOLOR_*`
environment variables are read somewhere in the checkout; the corpus paragraph names every
package and the split counts of `kcolor/data/photos_manifest.json`.

It fails when the README is wrong: test_a_wrong_readme_line_is_reported applies each of
MUTATIONS to the README's text (a misspelled option `--video`, an abbreviated one
`--shorter-sid` that argparse itself would take, a choice the parser refuses `--format tflit`,
a bad setting `mixed_precision=fast`, an unknown config `flower`, a range past the registry
`kmhcnet_17`, a papers row without `*_photos_demo`, an unknown make variable `CONFIGS=`, make target
`docs-figure` or value `BENCH=peers`, a missing extra `.[notebook]`, a missing file, module
attribute or environment variable, ...) and asserts that each is reported with its line;
test_a_wrong_docs_cli_md_row_is_reported does the same for docs/cli.md.
"""

import argparse
import configparser
import contextlib
import dataclasses
import fnmatch
import functools
import importlib
import importlib.util
import io
import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

from kcolor.cli.main import build_parser, main
from kcolor.config import TrainConfig, apply_overrides, resolve_config
from kcolor.configs import config_paper, get_config, list_configs
from kcolor.models.registry import get_model, list_models

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CLI_DOC = ROOT / "docs" / "cli.md"
PROGRAMS = ("kcolor", "make", "python", "pip")
OTHER_PROGRAMS = ("export", "git", "jupyter")  # shell lines the README shows that kcolor does not own
SENTINEL = "README_VALUE"  # stands for a `VAR=...` placeholder given to `make -n`

# Lines the README shows failing, and what their one-line error must say.
DOCUMENTED_ERRORS = {
    "kcolor train --set no_such_key=1": "Valid keys",
    "--set epochs=-1": "epochs=-1 is not valid",
}


class Command(NamedTuple):
    where: str  # README.md:LINE
    text: str  # the line as the README shows it
    argv: tuple  # program first
    inline: bool  # a code span in prose, not a fenced block

    def fail(self, problem):
        return f"{self.where}: `{self.text}`: {problem}"


# ---------------------------------------------------------------- reading the README


FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def _line_of(text, offset):
    return text.count("\n", 0, offset) + 1


def _without_fences(text):
    """The text with its fenced blocks blanked (line numbers kept): what is prose."""
    return FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def _spans(text):
    """(line, span) for every inline code span of the prose, whitespace folded."""
    prose = _without_fences(text)
    return [(_line_of(prose, m.start()), " ".join(m.group(1).split())) for m in re.finditer(r"`([^`]+)`", prose)]


def _logical_lines(text):
    """(line, text) of each shell line of the fenced shell blocks, continuations joined."""
    for m in FENCE.finditer(text):
        if m.group(1) not in ("", "bash", "sh", "shell", "console"):
            continue
        first, chain = _line_of(text, m.start(2)), []
        for i, line in enumerate(m.group(2).splitlines()):
            chain.append((first + i, line.strip()))
            if line.rstrip().endswith("\\"):
                continue
            joined = " ".join(part.rstrip("\\").strip() for _, part in chain).strip()
            if joined:
                yield chain[0][0], joined
            chain = []


def _segments(tokens):
    """Split a tokenized line on `&&` and drop leading `VAR=value` environment assignments."""
    segment = []
    for token in [*tokens, "&&"]:
        if token != "&&":
            segment.append(token)
            continue
        while segment and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", segment[0]):
            segment.pop(0)
        if segment:
            yield segment
        segment = []


def readme_commands(text, name="README.md"):
    """Every command line the text shows, fenced or inline, as `Command`s."""
    found = []
    for line, shell in _logical_lines(text):
        alternative = re.search(r"#\s*or:\s*(.+)$", shell)  # `cmd   # or: other cmd` shows two commands
        for part in [shell.lstrip("!"), *([alternative.group(1)] if alternative else [])]:
            tokens = shlex.split(part, comments=True)
            found += [Command(f"{name}:{line}", part, tuple(s), False) for s in _segments(tokens)]
    for line, span in _spans(text):
        try:
            tokens = shlex.split(span)
        except ValueError:
            continue
        found += [Command(f"{name}:{line}", span, tuple(s), True) for s in _segments(tokens) if s[0] in PROGRAMS]
    return found


def _variants(args):
    """The concrete argument lists a synopsis stands for (see the module docstring)."""
    words = []
    for token in args:
        token = token.strip("[]")
        token = token[:-3] if token.endswith("...") else token
        if token:
            words.append(token.split("|") if "|" in token and not token.startswith("--") else [token])
    count = max([len(w) for w in words] or [1])
    return [[w[i % len(w)] for w in words] for i in range(count)]


def _is_placeholder(value):
    return SENTINEL in value or "..." in value or bool(re.fullmatch(r"[A-Z][A-Z0-9_]*(\.\w+)?", value))


# ---------------------------------------------------------------- kcolor lines


@functools.lru_cache(maxsize=None)
def _parser():
    return build_parser()


def _subparsers():
    return next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)).choices


def _option_problems(parser, args, where):
    """Each `--option` of ARGS is PARSER's own, in full and in its current spelling."""
    actions = {o: a for a in parser._actions for o in a.option_strings}
    current = sorted(o for o, a in actions.items() if o.startswith("--") and a.help != argparse.SUPPRESS)
    problems = []
    for token in args:
        option = token.split("=", 1)[0]
        if not option.startswith("--"):
            continue
        if option not in actions:
            problems.append(f"{where} has no option {option} (valid: {', '.join(current)})")
        elif actions[option].help == argparse.SUPPRESS:
            problems.append(f"{where} {option} is a deprecated spelling (docs/cli.md names the new one)")
    return problems


def _parse(argv):
    """The namespace of `kcolor ARGV`, or the parser's own error line."""
    with contextlib.redirect_stderr(io.StringIO()) as err, contextlib.redirect_stdout(io.StringIO()):
        try:
            return _parser().parse_args(argv), None
        except SystemExit:
            return None, (err.getvalue().strip().splitlines() or ["refused"])[-1]


def _model_keys(model):
    names = list_models() if model is None or _is_placeholder(model) else [model]
    return {o for name in names for o in get_model(name).option_names}


def _settings_problems(ns):
    """`--config` and `--set` of train/summary through the field checks; placeholders by key only."""
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    config = getattr(ns, "config", None)
    if config and not _is_placeholder(config) and config not in list_configs():
        return [f"config {config!r} is not registered (kcolor list-configs)"]
    overrides = list(ns.overrides) + ([f"model={ns.model}"] if ns.command == "summary" else [])
    concrete = [o for o in overrides if not _is_placeholder(o.partition("=")[2])]
    try:
        base = TrainConfig() if not config or _is_placeholder(config) else get_config(config)
        cfg = resolve_config(apply_overrides(base, concrete))
    except ValueError as err:
        return [f"its settings fail the config checks: {str(err).splitlines()[0]}"]
    model = None if any(o.startswith("model=") and o not in concrete for o in overrides) else cfg.model  # None: any
    unknown = [o for o in overrides if o not in concrete and o.partition("=")[0] not in fields | _model_keys(model)]
    return [f"--set {o.partition('=')[0]} is neither a config field nor a model option" for o in unknown]


@functools.lru_cache(maxsize=None)
def kcolor_problems(args):
    """What is wrong with `kcolor ARGS` (a tuple, the program left off)."""
    args = [a for a in args if a != "--verbose-tf"]  # main() takes it anywhere on the line
    first = next((i for i, a in enumerate(args) if not a.startswith("-")), len(args))
    lead, rest = args[:first], args[first:]
    problems = _option_problems(_parser(), lead, "kcolor")
    if not rest or rest == ["..."]:
        return problems
    command = rest[0]
    if command not in _subparsers():
        return problems + [f"kcolor has no subcommand {command!r} (valid: {', '.join(_subparsers())})"]
    variants = _variants(rest)
    options = list(dict.fromkeys(a for variant in variants for a in variant[1:]))
    problems += _option_problems(_subparsers()[command], options, f"kcolor {command}")
    for variant in variants:
        ns, error = _parse(variant)
        problems += [f"the parser refuses `kcolor {' '.join(variant)}`: {error}"] if error else []
        problems += _settings_problems(ns) if ns and ns.command in ("train", "summary") else []
    return list(dict.fromkeys(problems))


# ---------------------------------------------------------------- make, python, pip lines


@functools.lru_cache(maxsize=None)
def _makefile_variables():
    """The variables a user may set: assigned with `?=`, or named in the Makefile's header comment."""
    text = (ROOT / "Makefile").read_text()
    header = "\n".join(re.match(r"(?:#.*\n)*", text).group(0).splitlines())
    used = set(re.findall(r"\$\(([A-Z][A-Z0-9_]*)\)", text))
    return set(re.findall(r"^(?:export )?(\w+) \?=", text, re.M)) | {v for v in used if re.search(rf"\b{v}\b", header)}


@functools.lru_cache(maxsize=None)
def _make_dry_run(args):
    ours = _makefile_variables()  # the caller's environment must not set them, nor a parent make's flags
    env = {k: v for k, v in os.environ.items() if k not in ours and not k.startswith(("MAKE", "MFLAGS"))}
    result = subprocess.run(["make", "-n", "--no-print-directory", "-C", str(ROOT), *args],
                            capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    return result.returncode, result.stdout + result.stderr


def _printed_commands(output):
    """(program, args) of each kcolor or python line `make -n` printed, its shell variables filled in."""
    shell_vars = dict(re.findall(r'^(\w+)="([^"]*)"', output, re.M))
    for line in output.splitlines():
        if line.lstrip().startswith("echo"):
            continue
        for m in re.finditer(r"\.venv/bin/(kcolor|python)\s+([^;&|>\\]*)", line):
            text = re.sub(r"\$(\w+)", lambda v: shell_vars.get(v.group(1), v.group(0)), m.group(2))
            yield m.group(1), tuple(shlex.split(text, comments=True))


MAKE_VALUES = {"NOTEBOOK": lambda v: any((ROOT / "notebooks").glob(f"{v}_*.ipynb"))}


@functools.lru_cache(maxsize=None)
def make_problems(args):
    """What is wrong with `make ARGS`."""
    problems, given = [], []
    for arg in args:
        name, eq, value = arg.partition("=")
        if not eq:
            given.append(arg)
            continue
        if name not in _makefile_variables():
            valid = ", ".join(sorted(_makefile_variables()))
            problems.append(f"{name} is not a variable the Makefile reads (it has: {valid})")
        value = value if value != "..." else f"{SENTINEL}_{name}"
        if name in MAKE_VALUES and not MAKE_VALUES[name](value):
            problems.append(f"{name}={value} names nothing there is")
        given.append(f"{name}={value}")
    code, output = _make_dry_run(tuple(given))
    if code != 0:
        return problems + [f"make -n refuses it: {output.strip().splitlines()[-1]}"]
    for name, _, value in (arg.partition("=") for arg in given if "=" in arg):
        if any(word not in output for word in value.split()):
            problems.append(f"{name}={value} does not reach the commands make runs")
    for program, printed in _printed_commands(output):
        check = kcolor_problems if program == "kcolor" else python_problems
        problems += [f"make -n prints `{program} {' '.join(printed)}`: {p}" for p in check(printed)]
    return problems


def _module_source(module):
    spec = importlib.util.find_spec(module)
    in_package = spec is not None and spec.origin and spec.origin.startswith(str(ROOT / "kcolor"))
    if not in_package:  # another package's options (pytest's come from its plugins) are not checked
        return None if spec is None else ""
    files = Path(spec.origin).parent.glob("*.py") if spec.submodule_search_locations else [Path(spec.origin)]
    return "\n".join(f.read_text() for f in files)


@functools.lru_cache(maxsize=None)
def python_problems(args):
    """What is wrong with `python ARGS`."""
    if args[:1] == ("-c",):  # code: it compiles, and every kcolor module it names in quotes exists
        try:
            compile(args[1], "<python -c>", "exec")
        except SyntaxError as err:
            return [f"its -c code does not compile: {err.msg}"]
        return [f"there is no module {m}" for m in re.findall(r"['\"](kcolor[\w.]*)['\"]", args[1])
                if _module_source(m) is None]
    if args[:1] == ("-m",):
        module, rest = args[1], args[2:]
        if module == "kcolor":
            return kcolor_problems(rest)
        if module == "pip":
            return pip_problems(rest)
        source = _module_source(module)
        if source is None:
            return [f"there is no module {module}"]
    else:
        script, rest = ROOT / args[0], args[1:]
        if not script.is_file():
            return [f"there is no file {args[0]}"]
        source = script.read_text()
    options = sorted({a.split("=")[0] for a in rest if a.startswith("--")})
    problems = [f"{o} is not an option of it" for o in options if source and f'"{o}"' not in source]  # ours only
    configs = [b for a, b in zip(rest, rest[1:]) if a == "--config" and not _is_placeholder(b)]
    return problems + [f"config {c!r} is not registered" for c in configs if c not in list_configs()]


@functools.lru_cache(maxsize=None)
def _extras():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return set(cfg["options.extras_require"])


@functools.lru_cache(maxsize=None)
def pip_problems(args):
    """What is wrong with `pip ARGS` (extras of this package only)."""
    if args[:1] != ("install",):
        return []
    extras = [e for a in args for m in [re.fullmatch(r"[.\w/-]*\[([\w,-]+)\]", a)] if m for e in m.group(1).split(",")]
    valid = ", ".join(sorted(_extras()))
    return [f"setup.cfg has no extra {e!r} (it has: {valid})" for e in extras if e not in _extras()]


def command_problems(command):
    program, args = command.argv[0], tuple(command.argv[1:])
    if command.text in DOCUMENTED_ERRORS:
        return []  # test_documented_errors_fail_as_the_readme_says runs it
    if program == "kcolor":
        mention = command.inline and len(args) == 1 and args[0] in _subparsers()  # prose naming a subcommand
        problems = [] if mention else kcolor_problems(args)
    elif program == "make":
        problems = make_problems(args) if args else []
    elif program == "python":
        problems = python_problems(args)
    elif program == "pip":
        problems = pip_problems(args)
    else:
        problems = [] if program in OTHER_PROGRAMS else [f"{program!r} is none of the programs the README may run"]
    return [command.fail(p) for p in problems]


# ---------------------------------------------------------------- names


@functools.lru_cache(maxsize=None)
def _config_papers():
    return {name: config_paper(name) for name in list_configs()}


def _setting_keys():
    return {f.name for f in dataclasses.fields(TrainConfig)} | _model_keys(None)


def _table_rows(text, header_start):
    """(line, {column: cell}) of the Markdown table whose header line starts with `header_start`."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(header_start)), None)
    if start is None:
        return []
    columns = [c.strip() for c in lines[start].strip("|").split("|")]
    rows = []
    for i in range(start + 2, len(lines)):
        if not lines[i].startswith("|"):
            break
        rows.append((i + 1, dict(zip(columns, (c.strip() for c in lines[i].strip("|").split("|"))))))
    return rows


def _config_cell(cell):
    """The names and the glob patterns a papers-table `configs` cell gives; `a_1` … `a_16` expanded."""
    names = [f"{stem}{i}" for stem, lo, hi in re.findall(r"`(\w+?_)(\d+)` (?:…|\.\.\.) `\1(\d+)`", cell)
             for i in range(int(lo), int(hi) + 1)]  # fmt: skip
    names += re.findall(r"`([^`]+)`", cell)
    return [n for n in names if "*" not in n], [n for n in names if "*" in n]


def papers_table_problems(text):
    """Each row's registry names are that paper's models and its configs column is that paper's configs, all of them."""
    problems = []
    for line, row in _table_rows(text, "| paper | status |"):
        paper, fail = row["paper"].split()[0], (lambda p, line=line: f"README.md:{line}: papers table: {p}")
        for model in re.findall(r"`([^`]+)`", row["registry names"]):
            if model not in list_models() or get_model(model).paper != paper:
                problems.append(fail(f"`{model}` is not a registered model of paper {paper}"))
        names, patterns = _config_cell(row["configs"])
        ours = sorted(c for c, p in _config_papers().items() if p == paper)
        problems += [fail(f"`{n}` is not a registered config of paper {paper}") for n in names if n not in ours]
        problems += [fail(f"`{p}` matches no config of paper {paper}") for p in patterns if not fnmatch.filter(ours, p)]
        unnamed = [c for c in ours if c not in names and not any(fnmatch.fnmatch(c, p) for p in patterns)]
        problems += [fail(f"its configs column leaves out {', '.join(unnamed)}")] if unnamed else []
    return problems


def _resolves(dotted):
    """Whether `kcolor.a.b` names a module, or an attribute of the longest module prefix."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            if importlib.util.find_spec(".".join(parts[:i])) is None:
                continue
        except (ImportError, AttributeError, ValueError):
            continue
        obj = importlib.import_module(".".join(parts[:i])) if i < len(parts) else None
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


@functools.lru_cache(maxsize=None)
def _checkout_source():
    files = [*ROOT.glob("kcolor/**/*.py"), *ROOT.glob("tests/*.py"), *ROOT.glob("scripts/*.py"), *ROOT.glob(".ci/*"),
             ROOT / "Makefile"]  # fmt: skip
    return "\n".join(f.read_text(errors="replace") for f in files if f.is_file() and f != Path(__file__))


def _span_problem(span):
    """What is wrong with one inline code span of the prose that names something, or None."""
    configs, models = set(list_configs()), set(list_models())
    stems = {name.split("_")[0] for name in configs | models}
    if re.fullmatch(r"[a-z][a-z0-9]*_[a-z0-9_]+", span) and span not in configs | models | _setting_keys():
        if span.split("_")[0] in stems or span.endswith(("_smoke", "_demo")):
            return "looks like a config or model name, but neither registry has it (kcolor list-configs, list-models)"
    if re.fullmatch(r"kcolor(\.\w+)+", span) and not _resolves(span):
        return "names no module or attribute of the package"
    if re.fullmatch(r"(kcolor|tests|scripts|docs|notebooks|\.ci)/[\w./*-]*|[A-Z]+\.md", span):
        return None if any(ROOT.glob(span.rstrip("/"))) else "is no file or folder of the checkout"
    if span.startswith("--set ") and span not in DOCUMENTED_ERRORS:
        return _set_span_problem(span)
    return None


def _set_span_problem(span):
    for key, _, value in (t.partition("=") for t in shlex.split(span) if t != "--set"):
        if key == "key":
            continue  # `--set key=value`, the syntax itself
        if key not in _setting_keys():
            return f"{key} is neither a config field nor a model option"
        if key in {f.name for f in dataclasses.fields(TrainConfig)} and not _is_placeholder(value):
            try:
                apply_overrides(TrainConfig(), [f"{key}={value}"])
            except ValueError as err:
                return str(err).splitlines()[0]
    return None


def names_problems(text):
    """The names the README's prose shows: registry names, modules, files, settings, environment variables."""
    problems = papers_table_problems(text)
    for line, span in _spans(text):
        problem = _span_problem(span)
        problems += [f"README.md:{line}: `{span}` {problem}"] if problem else []
    for var in sorted(set(re.findall(r"\bKCOLOR_[A-Z_]+\b", text))):
        if not re.search(rf"\b{var}\b", _checkout_source()):
            problems.append(f"README.md: environment variable {var} is read nowhere in the checkout")
    return problems


def corpus_problems(text):
    """The README's paragraph on the corpus `photos` names every package and split count of its manifest."""
    manifest = json.loads((ROOT / "kcolor" / "data" / "photos_manifest.json").read_text())
    start = text.find("**The real-photo corpus `photos`.**")
    paragraph = text[start:text.find("\n\n", start)] if start >= 0 else ""
    splits = [p["split"] for p in manifest["photos"]]
    counts = (len(splits), splits.count("train"), splits.count("val"), splits.count("test"))
    said = re.search(r"(\d+) photos, (\d+) to\s+train, (\d+) to\s+validate, (\d+) to\s+test", paragraph)
    problems = [] if said and tuple(map(int, said.groups())) == counts else [
        f"README.md: the corpus `photos` has {counts[0]} photos, {counts[1]} to train, {counts[2]} to validate, "
        f"{counts[3]} to test (kcolor/data/photos_manifest.json); its paragraph says {said and said.group(0)!r}"]
    return problems + [f"README.md: the corpus paragraph does not name the package {name}"
                       for name in manifest["packages"] if name not in paragraph]  # fmt: skip


def cli_doc_problems(text):
    """docs/cli.md's tables: each row's options are options of the commands its `where` column names."""
    problems = []
    for line, row in _table_rows(text, "| word | where |"):
        commands = [c for c in re.findall(r"`([^`]+)`", row["where"]) if c in _subparsers()]
        fields = re.findall(r"config field `(\w+)`", row["where"])
        options = re.findall(r"--[\w-]+", row["word"])
        for command in commands:
            problems += [f"docs/cli.md:{line}: {p}" for p in _option_problems(_subparsers()[command], options, command)]
        problems += [f"docs/cli.md:{line}: `{f}` is no config field" for f in fields if f not in _setting_keys()]
    for line, row in _table_rows(text, "| old | new |"):
        for span in re.findall(r"`([^`]+)`", row["old"]):
            if span.split()[0] not in _subparsers():  # an old config field name: test_cli_vocabulary checks those
                continue
            command, option = span.split()[:2]
            actions = {o: a for a in _subparsers()[command]._actions for o in a.option_strings}
            if option not in actions or actions[option].help != argparse.SUPPRESS:
                problems.append(f"docs/cli.md:{line}: `{span}` is not an old spelling kcolor {command} still takes")
    return problems


def readme_problems(text):
    commands = [p for c in readme_commands(text) for p in command_problems(c)]
    return commands + names_problems(text) + corpus_problems(text)


# ---------------------------------------------------------------- the tests


def test_every_readme_command_exists_and_parses():
    commands = readme_commands(README.read_text())
    assert sum(c.argv[0] == "kcolor" for c in commands) >= 20 and any(c.argv[0] == "make" for c in commands)
    problems = [p for c in commands for p in command_problems(c)]
    assert not problems, "\n".join(problems)


def test_every_name_the_readme_shows_is_registered_or_exists():
    problems = names_problems(README.read_text())
    assert not problems, "\n".join(problems)


def test_the_corpus_paragraph_counts_what_the_manifest_holds():
    problems = corpus_problems(README.read_text())
    assert not problems, "\n".join(problems)


def test_docs_cli_md_options_belong_to_the_commands_it_names():
    text = CLI_DOC.read_text()
    problems = cli_doc_problems(text) + [p for c in readme_commands(text, "docs/cli.md") for p in command_problems(c)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("line, message", DOCUMENTED_ERRORS.items())
def test_documented_errors_fail_as_the_readme_says(capsys, monkeypatch, tmp_path, line, message):
    assert line in README.read_text(), f"README no longer shows `{line}`: drop it from DOCUMENTED_ERRORS"
    argv = shlex.split(line)
    monkeypatch.chdir(tmp_path)
    code = main(argv[1:] if argv[0] == "kcolor" else ["train", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err, err


# (old, new, what the report must say): each turns a true README line false.
MUTATIONS = [
    ("--config flowers         #", "--config flower         #", "config 'flower' is not registered"),
    ("[--shorter-side 256]", "[--shorter-sid 256]", "has no option --shorter-sid"),
    ("kcolor make-pairs --videos DIR", "kcolor make-pairs --video DIR", "has no option --video"),
    ("--format savedmodel|tflite", "--format savedmodel|tflit", "invalid choice: 'tflit'"),
    ("--set mixed_precision=auto\n", "--set mixed_precision=fast\n", "mixed_precision"),
    ("--set strategy=mirrored", "--set strategy=mirored", "strategy"),
    ("kcolor list-configs ", "kcolor list-config ", "no subcommand 'list-config'"),
    ("`kmhcnet_1` … `kmhcnet_16`", "`kmhcnet_1` … `kmhcnet_17`", "`kmhcnet_17` is not a registered config"),
    ("`stable_cheating` (+ `*_smoke`, `*_photos_demo`)", "`stable_cheating` (+ `*_smoke`)", "leaves out ref_autoencoder_photos_demo"),
    ("`flowers_small` is the same", "`flowers_smal` is the same", "`flowers_smal` looks like a config"),
    ("make compare CONFIG=flowers  ", "make compare CONFIGS=flowers  ", "CONFIGS is not a variable the Makefile reads"),
    ("what `make bench BENCH=peer`", "what `make bench BENCH=peers`", "BENCH=peers is not valid"),
    ("`make docs-figures`", "`make docs-figure`", "No rule to make target 'docs-figure'"),
    ("`make demo NOTEBOOK=003`", "`make demo NOTEBOOK=005`", "NOTEBOOK=005 names nothing"),
    ('pip install -e ".[notebooks]"', 'pip install -e ".[notebook]"', "setup.cfg has no extra 'notebook'"),
    ("`python scripts/docs_video.py`", "`python scripts/docs_videos.py`", "no file scripts/docs_videos.py"),
    ("`kcolor.config.FIELD_CHECKS`", "`kcolor.config.FIELD_CHECK`", "names no module or attribute"),
    ("(`tests/test_scale.py`", "(`tests/test_scales.py`", "is no file or folder"),
    ("`KCOLOR_TF_LOGS=1`", "`KCOLOR_TF_LOG=1`", "KCOLOR_TF_LOG is read nowhere"),
    ("`--set adv_loss=bce`", "`--set adv_los=bce`", "adv_los is neither"),
    ("144 photos, 117 to train", "20 photos, 14 to train", "the corpus `photos` has 144 photos, 117 to train"),
    ("Debian's `tuxpaint-data`", "Debian's Tux Paint", "not name the package tuxpaint-data"),
]


@pytest.mark.parametrize("old, new, needle", MUTATIONS, ids=[m[1].strip("`[ ") for m in MUTATIONS])
def test_a_wrong_readme_line_is_reported(old, new, needle):
    text = README.read_text()
    assert text.count(old) == 1, f"the README no longer has `{old}` once: update MUTATIONS"
    problems = readme_problems(text.replace(old, new))
    assert any(needle in p for p in problems), "\n".join(problems) or "nothing reported"


def test_a_wrong_docs_cli_md_row_is_reported():
    text = CLI_DOC.read_text()
    old = "| `--quantize KIND` | `export`, `web` |"
    assert text.count(old) == 1, "docs/cli.md changed its --quantize row: update this test"
    problems = cli_doc_problems(text.replace(old, "| `--quantize KIND` | `export`, `web`, `colorize` |"))
    assert any("colorize has no option --quantize" in p for p in problems), problems


# ---------------------------------------------------------------- the smoke form

TINY = ("image_size=32", "batch_size=2", "epochs=1", "steps_per_epoch=2", "val_steps=1", "sample_images=2")
OFFLINE_DATA = ("sample", "pairs:sample")


def _run_folder_files():
    """The files README's "The run folder" table says `kcolor train` writes."""
    rows = _table_rows(README.read_text(), "| file | content |")
    return [name.rstrip("/") for _, row in rows for name in re.findall(r"`([^`]+)`", row["file"])]


def _tiny_train(args, tmp_path):
    """`train` as written plus TINY, where it trains offline on one CPU; else None. Its run folder
    must hold every file of the README's run-folder table."""
    ns, _ = _parse(list(args))
    cfg = resolve_config(apply_overrides(get_config(ns.config), ns.overrides))
    if cfg.data not in OFFLINE_DATA or cfg.strategy in ("tpu", "multiworker") or any("gs://" in a for a in args):
        return None
    shrink = [*TINY, *(["base_filters=8"] if "base_filters" in _model_keys(cfg.model) else [])]
    run = tmp_path / "run"
    argv = [*args, "--run-dir", str(run), *(f"--set={s}" for s in shrink)]
    return argv, lambda out: all((run / name).exists() for name in _run_folder_files())


def _records_into_tmp(args, tmp_path):
    """`make-records` from the offline `sample` photos at 32 px, its bucket a temporary folder; else None."""
    if args[1] != "sample":
        return None
    argv = [a.replace("gs://MY_BUCKET", str(tmp_path / "bucket")) for a in args]
    argv += [] if "--shorter-side" in argv else ["--shorter-side", "32"]
    ns, _ = _parse(argv)
    return argv, lambda out: (Path(ns.out) / ns.name / "manifest.json").is_file()


# Subcommand -> its smoke form: (argv, what its output must show) or None to render --help instead.
SMOKE = {
    "list-models": lambda args, tmp: (list(args), lambda out: all(m in out for m in list_models())),
    "list-configs": lambda args, tmp: (list(args), lambda out: all(c in out for c in list_configs())),
    "summary": lambda args, tmp: (list(args), lambda out: "parameters: total" in out),
    "train": _tiny_train,  # and its run folder holds what "The run folder" says
    "make-records": _records_into_tmp,
}


def _readme_kcolor_lines():
    """Each distinct `kcolor` line of the README (a prose mention of a subcommand alone left out)."""
    lines = {}
    for c in readme_commands(README.read_text()):
        args = c.argv[1:] if c.argv[0] == "kcolor" else c.argv[3:] if c.argv[:3] == ("python", "-m", "kcolor") else ()
        args = tuple(a for a in args if a != "--verbose-tf")
        if args and args != ("...",) and c.text not in DOCUMENTED_ERRORS and not (c.inline and len(args) == 1):
            lines.setdefault(args, c)
    return lines


KCOLOR_LINES = _readme_kcolor_lines()


@pytest.mark.parametrize("args", KCOLOR_LINES, ids=[f"{c.where}-{a[0]}" for a, c in KCOLOR_LINES.items()])
def test_readme_kcolor_line_runs_in_its_smoke_form(capsys, monkeypatch, tmp_path, args):
    command = KCOLOR_LINES[args]
    concrete = not any(_is_placeholder(a) or a != a.strip("[]") or "|" in a for a in args)
    smoke = SMOKE[args[0]](args, tmp_path) if concrete and args[0] in SMOKE else None
    monkeypatch.chdir(tmp_path)
    if smoke is None:  # parsed by test_every_readme_command_exists_and_parses; here its help renders
        with pytest.raises(SystemExit) as exit_:
            main([args[0], "--help"])
        assert exit_.value.code == 0 and f"usage: kcolor {args[0]}" in capsys.readouterr().out
        return
    argv, shows = smoke
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0 and shows(out), command.fail(f"its smoke form `kcolor {shlex.join(argv)}` failed:\n{out}\n{err}")
