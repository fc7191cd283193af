"""Per-photo comparisons in the benchmark: photos won and a bootstrap interval of the gain,
computed on whole photos (the mean over each photo's crops), not on crops."""

import numpy as np
import pytest

from kcolor.benchmark.paired import compare, describe, per_photo


def test_a_photos_score_is_the_mean_over_its_crops_in_order_of_first_appearance():
    ids = ["b/crop000", "a/crop000", "b/crop001", "a/pair000"]
    assert per_photo(ids, [1.0, 4.0, 3.0, 6.0]) == {"b": 2.0, "a": 5.0}
    with pytest.raises(ValueError, match="one value per id. Received 4 ids and 3 values"):
        per_photo(ids, [1.0, 2.0, 3.0])


def test_photos_are_counted_not_crops():
    # Three crops of `a` won by 1 dB, one crop of `b` lost by 3 dB: by crops 3 of 4 and a mean
    # gain of 0; by photos 1 of 2 and a mean gain of -1.
    ids = ["a/crop000", "a/crop001", "a/crop002", "b/crop000"]
    result = compare(ids, [21.0, 21.0, 21.0, 17.0], [20.0, 20.0, 20.0, 20.0])
    assert result["photos"] == 2 and result["won"] == 1
    assert result["gain_db"] == pytest.approx(-1.0)
    # Two photos: the resampled means can only be -3, -1 or +1.
    assert result["ci95_db"] == [pytest.approx(-3.0), pytest.approx(1.0)]


def test_the_interval_excludes_zero_only_when_every_photo_agrees_enough():
    ids = [f"p{i}/crop000" for i in range(16)]
    base = np.full(16, 20.0)
    clear = compare(ids, base + np.linspace(0.5, 1.5, 16), base)
    assert clear["won"] == 16 and clear["ci95_db"][0] > 0 and clear["gain_db"] == pytest.approx(1.0)
    mixed = compare(ids, base + np.tile([2.0, -2.0], 8), base)  # half up, half down: mean 0
    assert mixed["won"] == 8 and mixed["ci95_db"][0] < 0 < mixed["ci95_db"][1]
    assert compare(ids, base + np.tile([2.0, -2.0], 8), base) == mixed, "a fixed seed: the same interval every time"


def test_one_photo_has_no_interval_and_a_non_finite_score_is_refused():
    one = compare(["coffee/crop000", "coffee/crop001"], [15.0, 17.0], [15.5, 15.5])
    assert one == {"photos": 1, "won": 1, "gain_db": pytest.approx(0.5), "ci95_db": None}
    assert describe(one, "gray baseline") == "won 1 of 1 test photos against gray baseline, +0.50 dB (one photo: no interval)"
    with pytest.raises(ValueError, match="not finite"):
        compare(["a/crop000"], [float("inf")], [20.0])


def test_the_phrase_names_the_count_the_gain_and_the_interval():
    result = {"photos": 16, "won": 9, "gain_db": 0.26, "ci95_db": [-0.104, 0.614]}
    assert describe(result, "mean chroma") == "won 9 of 16 test photos against mean chroma, +0.26 dB (95% CI -0.10 to +0.61)"
