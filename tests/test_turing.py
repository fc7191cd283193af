"""The colorization Turing test (Zhang et al. 2016, as Paper 002 uses it): the page driven
end to end in headless Chromium, and the score with its Wilson interval."""

import json
import math

import pytest

from kcolor.cli.main import main
from kcolor.config import TrainConfig
from kcolor.export.run import save_run
from kcolor.models import build_model
from kcolor.turing import build_page, score_results, wilson_interval
from tests.browser import wait_for_download

TINY = {"base_filters": 4, "max_filters": 8, "d_filters": (4, 8)}
PRACTICE, N = 2, 3


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    root = tmp_path_factory.mktemp("turing")
    colorizer = build_model("cgan_unet_baseline", 32, **TINY)["colorizer"]
    cfg = TrainConfig(model="cgan_unet_baseline", data="sample", image_size=32, batch_size=4, options=TINY)
    run = save_run(root / "run", colorizer, model_name="cgan_unet_baseline", io="l_ab", image_size=32,
                   options=TINY, config=cfg)
    # show_ms small so the test runs fast; feedback long enough to be read back reliably.
    return build_page(run, n=N, practice=PRACTICE, show_ms=50, feedback_ms=1500, seed=7, out_dir=str(root / "page"))


def _mulberry32_sides(seed, count):
    """The page's left/right rule, in Python (see kcolor.turing.SIDE_RULE)."""
    a, sides = seed, []
    for _ in range(count):
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = a
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        sides.append("left" if ((t ^ (t >> 14)) & 0xFFFFFFFF) / 2**32 < 0.5 else "right")
    return sides


def _fnv1a(text):
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


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

    assert results["page"] == page["page"] and results["participant"] == "tester 1"
    assert results_path.name.startswith(f"turing-{page['page'][:12]}-tester_1")
    trials = results["trials"]
    assert [t["choice"] for t in trials] == clicked
    assert [t["practice"] for t in trials] == [True] * PRACTICE + [False] * N
    assert all(isinstance(t["ms"], int) and t["ms"] >= 50 for t in trials)  # answers only after the pair is hidden
    # The recorded seed reproduces the sides: page seed XOR FNV-1a(participant).
    assert results["seed"] == 7 ^ _fnv1a("tester 1")
    assert [t["fake_side"] for t in trials] == _mulberry32_sides(results["seed"], PRACTICE + N)
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


def _results(tmp_path, name, page, choices, practice=0):
    trials = [
        {"pair": f"p{i}", "fake_side": "left", "choice": c, "practice": i < practice, "ms": 1200}
        for i, c in enumerate(choices)
    ]
    path = tmp_path / name
    path.write_text(json.dumps({"page": page, "participant": name[:-5], "trials": trials}))
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
