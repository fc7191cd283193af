"""Headless Chromium for the browser tests: Debian's `chromium` driven by selenium.

`make test` installs the browser on first use (`make browser`). A missing browser or
driver fails the test with the command that installs it; it is never skipped.

Example (in a test module):
    from tests.browser import chromium  # noqa: F401  (the fixture)

    def test_page(chromium, tmp_path):
        chromium.get((tmp_path / "index.html").as_uri())
        chromium.downloads  # the folder that downloads land in
"""

import os
import shutil
import time
from pathlib import Path

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver",)
INSTALL_HINT = (
    "Install it with `make browser` (runs: sudo apt-get install -y chromium chromium-driver; "
    "pip install selenium), then rerun the tests."
)


def _which(names, env_var):
    explicit = os.environ.get(env_var)
    if explicit:
        return explicit if os.path.exists(explicit) else None
    for name in names:
        found = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None)
        if found:
            return found
    return None


def start_chromium(download_dir):
    """A headless selenium `webdriver.Chrome` that saves downloads into `download_dir`.

    Fails the calling test (never skips) with the install command when the browser,
    its driver or selenium is missing.
    """
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(f"selenium is not installed. {INSTALL_HINT}", pytrace=False)
    browser = _which(BROWSERS, "KCOLOR_CHROMIUM")
    driver = _which(DRIVERS, "KCOLOR_CHROMEDRIVER")
    if browser is None or driver is None:
        missing = "chromium" if browser is None else "chromedriver"
        pytest.fail(f"Headless browser tests need {missing}, which is not installed. {INSTALL_HINT}", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--allow-file-access-from-files", "--window-size=1280,900"):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(download_dir),
            "download.prompt_for_download": False,
            "download.directory_upgrade": True,
            "safebrowsing.enabled": True,
        },
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    chrome.set_page_load_timeout(60)
    chrome.downloads = Path(download_dir)
    return chrome


def wait_for_download(folder, pattern="*", timeout=30.0):
    """The path of the first finished download in `folder` that matches `pattern`."""
    folder = Path(folder)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(pattern) if not p.name.endswith((".crdownload", ".tmp"))]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"No download matching {pattern!r} appeared in {folder} within {timeout:.0f} s")


@pytest.fixture
def chromium(tmp_path):
    """A headless Chromium (selenium driver) whose downloads go to `chromium.downloads`."""
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    chrome = start_chromium(downloads)
    try:
        yield chrome
    finally:
        chrome.quit()
