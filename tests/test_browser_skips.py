"""Without a browser the browser tests skip with one closing line; under KCOLOR_REQUIRE_BROWSER=1 they fail."""

import pytest

from tests import browser


def test_missing_skips_and_the_closing_line_names_what_is_missing(monkeypatch):
    monkeypatch.delenv(browser.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        browser.missing("chromium", browser.INSTALL_HINT)
    line = browser.skipped_line([f"Skipped: {skipped.value.msg}", "Skipped: needs a GPU"])
    assert line.startswith("1 browser tests skipped: chromium not installed.") and "make browser" in line
    assert browser.skipped_line(["Skipped: needs a GPU"]) is None


def test_missing_fails_when_ci_requires_the_browser(monkeypatch):
    monkeypatch.setenv(browser.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="chromium is not installed, and KCOLOR_REQUIRE_BROWSER=1"):
        browser.missing("chromium", browser.INSTALL_HINT)
