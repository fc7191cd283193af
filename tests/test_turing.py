"""The colorization Turing test (Zhang, Isola, Efros, "Colorful Image Colorization", 2016,
as Paper 002 uses it): the page driven end to end in headless Chromium, the images it
draws, and the score with its Wilson interval."""

import json
import math
from pathlib import Path

import pytest

from kcolor.cli.main import main
from kcolor.config import TrainConfig
from kcolor.export.run import save_run
from kcolor.models import build_model
from kcolor.turing import build_page, fnv1a, sample_positions, score_results, session_plan, wilson_interval
from tests.browser import wait_for_download

TINY = {"base_filters": 4, "max_filters": 8, "d_filters": (4, 8)}
PRACTICE, N = 2, 3


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("turing-run")
    colorizer = build_model("cgan_unet_baseline", 32, **TINY)["colorizer"]
    cfg = TrainConfig(model="cgan_unet_baseline", data="sample", image_size=32, batch_size=4, options=TINY)
    return save_run(root / "run", colorizer, model_name="cgan_unet_baseline", io="l_ab", image_size=32,
                    options=TINY, config=cfg)


@pytest.fixture(scope="module")
def page(run, tmp_path_factory):
    # show_ms small so the test runs fast; feedback long enough to be read back reliably.
    out = tmp_path_factory.mktemp("turing-page")
    return build_page(run, n=N, practice=PRACTICE, show_ms=50, feedback_ms=1500, seed=7, out_dir=str(out))


def _split_ids(run, split):
    """The image ids of the sample source's `split`, in split order (as the page reads it)."""
    from kcolor.data import build_eval_split

    cfg = TrainConfig(model="cgan_unet_baseline", data="sample", image_size=32, augment=(), cache=False)
    dataset, _, _ = build_eval_split(cfg, split, batch_size=64)
    return [i.decode("utf-8") for batch in dataset for i in batch["id"].numpy()]


def _pairs(page):
    """The page's `pairs.json` (written beside its index.html)."""
    return json.loads((Path(page["path"]).parent / "pairs.json").read_text())


def test_the_page_hash_is_fnv1a():
    assert fnv1a("") == 0x811C9DC5 and fnv1a("a") == 0xE40C292C and fnv1a("foobar") == 0xBF9CF968  # FNV test vectors


def test_page_is_self_contained(page):
    html = open(page["path"], encoding="utf-8").read()
    assert html.count("data:image/png;base64,") == 2 * (PRACTICE + N)
    assert "http://" not in html and "https://" not in html  # nothing to fetch
    for hook in ('data-action="start"', 'data-choice="left"', 'data-choice="right"', 'data-action="download"'):
        assert hook in html


def test_turing_page_end_to_end_in_chromium(page, chromium, tmp_path, capsys):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def state():
        return chromium.execute_script("return document.body.dataset.state")

    def wait_state(name):
        WebDriverWait(chromium, 30, poll_frequency=0.02).until(lambda _: state() == name)

    chromium.get("file://" + page["path"])
    assert state() == "intro"
    chromium.find_element(By.ID, "participant").send_keys("tester 1")
    chromium.find_element(By.CSS_SELECTOR, '[data-action="start"]').click()
    clicked, banners = [], []
    for k in range(PRACTICE + N):
        wait_state("answering")
        assert chromium.execute_script("return document.body.dataset.trial") == str(k)
        side = ("left", "right", "right", "left", "left")[k]
        chromium.find_element(By.CSS_SELECTOR, f'[data-choice="{side}"]').click()
        clicked.append(side)
        if k < PRACTICE:  # practice: feedback before the next pair
            banners.append(chromium.find_element(By.ID, "banner").text)
    wait_state("done")
    chromium.find_element(By.CSS_SELECTOR, '[data-action="download"]').click()
    results_path = wait_for_download(chromium.downloads, "turing-*.json")
    results = json.loads(results_path.read_text())

    assert results["page"] == page["page"] and results["participant"] == "tester 1" and results["split"] == "test"
    assert results_path.name.startswith(f"turing-{page['page'][:12]}-tester_1")
    trials = results["trials"]
    assert [t["choice"] for t in trials] == clicked
    assert [t["practice"] for t in trials] == [True] * PRACTICE + [False] * N
    assert all(isinstance(t["ms"], int) and t["ms"] >= 50 for t in trials)  # answers only after the pair is hidden
    # The recorded seed reproduces the sides: page seed XOR FNV-1a(participant), one draw per page pair.
    pairs = _pairs(page)
    plan = session_plan(7, "tester 1", [p["practice"] for p in pairs["pairs"]])
    assert results["seed"] == plan["seed"] == 7 ^ fnv1a("tester 1")
    by_page_order = sorted(trials, key=lambda t: t["index"])
    assert [t["fake_side"] for t in by_page_order] == plan["fake_side"]  # the page's JS draw = the Python replay
    # ...and this participant's own trial order, which is not the page's (practice still first).
    assert plan["order"] != list(range(PRACTICE + N))  # this id's order is shuffled (else the test proves nothing)
    assert results["order"] == plan["order"] == [t["index"] for t in trials]
    assert [t["pair"] for t in trials] == [pairs["pairs"][i]["pair"] for i in plan["order"]]
    assert [t["fake_side"] for t in trials] == [plan["fake_side"][i] for i in plan["order"]]
    assert results["sample"] == pairs["sample"]
    for trial, banner in zip(trials, banners):
        assert banner.startswith("Wrong" if trial["choice"] == trial["fake_side"] else "Correct")

    out = tmp_path / "score.json"
    assert main(["turing-score", str(results_path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    fooled = sum(t["choice"] == t["fake_side"] for t in trials[PRACTICE:])
    assert report["pooled"]["trials"] == N and report["pooled"]["fooled"] == fooled
    assert report["practice_trials_excluded"] == PRACTICE
    assert report["participants"][0]["participant"] == "tester 1"
    assert "tester 1" in printed and "pooled" in printed and "Wilson" in printed
    assert report["split"] == "test" and "test split: unseen images" in printed


# A slow decode (400 ms per image) and a log of decodes, animation frames and states, put
# into the page by the test: the pair must be on screen show_ms from its first paint.
SLOW_DECODE = """
window.__log = [];
const log = (what) => window.__log.push([what, performance.now()]);
const decode = HTMLImageElement.prototype.decode;
HTMLImageElement.prototype.decode = function () {
  return decode.call(this).then(() => new Promise((r) => setTimeout(r, 400))).then(() => log("decoded"));
};
const raf = window.requestAnimationFrame.bind(window);
window.requestAnimationFrame = (cb) => raf((t) => { log("frame"); cb(t); });
new MutationObserver(() => log("state:" + document.body.dataset.state))
  .observe(document.body, { attributes: true, attributeFilter: ["data-state"] });
"""


def test_exposure_is_timed_from_the_first_paint(page, chromium):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    chromium.get("file://" + page["path"])
    chromium.execute_script(SLOW_DECODE)
    chromium.find_element(By.ID, "participant").send_keys("tester 2")
    chromium.find_element(By.CSS_SELECTOR, '[data-action="start"]').click()
    WebDriverWait(chromium, 30, poll_frequency=0.02).until(
        lambda _: chromium.execute_script("return document.body.dataset.state") == "answering")
    log = chromium.execute_script("return window.__log")
    events = [what for what, _ in log]
    at = {what: t for what, t in log}  # the last time of each event
    shown = max(i for i, e in enumerate(events) if e == "state:showing")
    decodes = [i for i, e in enumerate(events) if e == "decoded"]
    assert len(decodes) == 2 and max(decodes) < shown  # both images decoded before the clock starts
    assert events[max(decodes) + 1:shown].count("frame") >= 2  # ...and painted (two frames later)
    assert at["state:answering"] - at["state:showing"] >= 50 - 1  # show_ms from that paint
    assert events.index("state:loading") < min(decodes)


def _results(tmp_path, name, page, choices, practice=0, participant=None, **fields):
    trials = [
        {"pair": f"p{i}", "fake_side": "left", "choice": c, "practice": i < practice, "ms": 1200}
        for i, c in enumerate(choices)
    ]
    path = tmp_path / name
    path.write_text(json.dumps({"page": page, "participant": participant or name[:-5], "trials": trials, **fields}))
    return path


def test_wilson_interval_known_values():
    low, high = wilson_interval(5, 10)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    low, high = wilson_interval(0, 40)
    assert low == 0.0 and round(high, 4) == 0.0876
    assert wilson_interval(0, 0) is None
    # Against the closed form for 24/40 (the paper's 60% on 40 trials).
    p, n, z = 0.6, 40, 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert wilson_interval(24, 40) == pytest.approx((centre - half, centre + half))


def test_score_pools_participants_and_excludes_practice(tmp_path):
    a = _results(tmp_path, "ana.json", "PAGE", ["left", "left", "right", "left"], practice=1)  # 2 of 3 fooled
    b = _results(tmp_path, "ben.json", "PAGE", ["right", "right", "left"])  # 1 of 3 fooled
    report = score_results([a, b])
    assert [p["fooled"] for p in report["participants"]] == [2, 1]
    assert report["pooled"]["trials"] == 6 and report["pooled"]["fooled"] == 3
    assert report["pooled"]["fooling_rate"] == 0.5 and report["practice_trials_excluded"] == 1
    assert report["pooled"]["ci95"] == pytest.approx(list(wilson_interval(3, 6)))


def test_score_refuses_results_of_different_pages_and_malformed_files(tmp_path, capsys):
    a = _results(tmp_path, "ana.json", "PAGE_ONE", ["left"])
    b = _results(tmp_path, "ben.json", "PAGE_TWO", ["left"])
    with pytest.raises(ValueError, match="different pages"):
        score_results([a, b])
    assert main(["turing-score", str(a), str(b)]) == 2
    assert "different pages" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"page": "P", "participant": "x", "trials": [{"pair": "p", "fake_side": "up"}]}))
    with pytest.raises(ValueError, match="trial 0 is malformed"):
        score_results([bad])


def test_page_draws_its_images_at_random_with_the_recorded_seed(page, run):
    """Zhang et al. draw the images at random; the first N of the split are not a sample."""
    split_ids = _split_ids(run, "test")
    drawn = sample_positions(len(split_ids), PRACTICE + N, 7)
    pairs = _pairs(page)
    assert pairs["sample"]["seed"] == 7 and pairs["sample"]["positions"] == drawn == page["sample"]["positions"]
    assert pairs["sample"]["available"] == len(split_ids)
    assert [p["pair"] for p in pairs["pairs"]] == [split_ids[i] for i in drawn]
    assert drawn != list(range(PRACTICE + N))  # not the split's head
    assert sample_positions(len(split_ids), PRACTICE + N, 8) != drawn  # the seed matters
    assert sample_positions(len(split_ids), PRACTICE + N, 7) == drawn  # and reproduces the draw


def test_each_participant_gets_their_own_order_with_practice_first():
    flags = [True] * 10 + [False] * 40
    plans = [session_plan(0, who, flags) for who in ("ana", "ben", "ana")]
    for plan in plans:
        assert sorted(plan["order"][:10]) == list(range(10)) and sorted(plan["order"][10:]) == list(range(10, 50))
    assert plans[0] == plans[2]  # replayable from the id and the page seed
    assert plans[0]["order"] != plans[1]["order"] and plans[0]["order"][10:] != list(range(10, 50))


def test_score_counts_one_session_per_participant(tmp_path, capsys):
    # ana's first session (2 of 2 fooled) counts; her second (0 of 2) is excluded and said so.
    a1 = _results(tmp_path, "ana.json", "PAGE", ["left", "left"], started="2024-05-01T10:00:00Z")
    b = _results(tmp_path, "ben.json", "PAGE", ["right", "left"])
    a2 = _results(tmp_path, "ana-again.json", "PAGE", ["right", "right"], participant=" ana ",
                  started="2024-05-01T11:00:00Z")
    report = score_results([a2, b, a1])  # given out of order: the earlier start counts
    assert [p["participant"] for p in report["participants"]] == ["ben", "ana"]
    assert report["pooled"]["participants"] == 2 and report["pooled"]["trials"] == 4
    assert report["pooled"]["fooled"] == 3
    (excluded,) = report["excluded_sessions"]
    assert excluded["file"] == str(a2) and excluded["first_session"] == str(a1)
    out = tmp_path / "score.json"
    assert main(["turing-score", str(a1), str(b), str(a2), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"excluded {a2}" in printed and "second session of participant ' ana '" in printed
    assert json.loads(out.read_text())["excluded_sessions"][0]["file"] == str(a2)


def test_turing_test_on_training_images_says_so(run, tmp_path, capsys):
    """Zhang et al.'s protocol as Paper 002 runs it: once on training images, once on unseen ones."""
    out = tmp_path / "train-page"
    assert main(["turing-test", str(run), "--split", "train", "--n", "2", "--practice", "0", "--seed", "3",
                 "--out", str(out)]) == 0
    pairs = json.loads((out / "pairs.json").read_text())
    train_ids = _split_ids(run, "train")
    assert pairs["source"]["split"] == "train" and pairs["sample"]["available"] == len(train_ids)
    assert [p["pair"] for p in pairs["pairs"]] == [train_ids[i] for i in sample_positions(len(train_ids), 2, 3)]
    assert (out / "index.html").read_text().count('"split": "train"') == 1  # the page records it in its results
    results = _results(tmp_path, "ana.json", pairs["page"], ["left", "right"], split="train")
    capsys.readouterr()
    assert main(["turing-score", str(results), "--out", str(tmp_path / "score.json")]) == 0
    assert "train split: images the model was trained on" in capsys.readouterr().out
    assert json.loads((tmp_path / "score.json").read_text())["split"] == "train"
