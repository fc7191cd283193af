"""Headless Chromium for the browser tests: Debian's `chromium` driven by selenium, and
the hooks of `kcolor web`'s page (`open_page`, `give_file`, `wait_state`, `colorized_png`).

`make test` installs the browser on first use (`make browser`, which needs root or
sudo) and LiteRT.js (`npm ci`, which needs Node.js and npm). On a machine without them
the browser and page tests are skipped, and the run ends with one line that says how
to enable them (`skipped_line`). With `KCOLOR_REQUIRE_BROWSER=1` (CI's `.ci/run` sets
it) a missing browser, driver, Node.js or LiteRT.js fails the test instead: CI never
passes with the browser tests skipped.

Example (in a test module):
    from tests.browser import chromium  # noqa: F401  (the fixture)

    def test_page(chromium, tmp_path):
        chromium.get((tmp_path / "index.html").as_uri())
        chromium.downloads  # the folder that downloads land in

    server, url = start_server(site)   # a kcolor web site
    open_page(chromium, url); give_file(chromium, "photo", "coffee.png")
    assert wait_state(chromium, ("done", "error")) == "done", error_text(chromium)
    rgb = colorized_png(chromium)      # the page's result, floats in [0, 1]
"""

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver",)
INSTALL_HINT = (
    "Install it with `make browser` (runs: sudo apt-get install -y chromium chromium-driver; "
    "pip install selenium), then rerun the tests."
)
NODE_HINT = "Install Node.js and npm, then `npm ci` in the checkout (`make test` does both where it can)."
REQUIRE_ENV = "KCOLOR_REQUIRE_BROWSER"
SKIP_MARK = "not installed (browser tests)"


def missing(what, hint):
    """Skip the calling test because `what` is not installed, or fail it under KCOLOR_REQUIRE_BROWSER=1."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{what} is not installed, and {REQUIRE_ENV}=1 requires the browser tests. {hint}", pytrace=False)
    pytest.skip(f"{what}: {SKIP_MARK}. {hint}")


def skipped_line(skip_messages):
    """One line naming what the skipped browser tests missed and how to enable them, or None.

    `skip_messages`: the messages of the run's skipped tests (the controller of a
    pytest-xdist run sees the workers' reports, not their state).
    """
    what = sorted({m.removeprefix("Skipped: ").split(": " + SKIP_MARK)[0] for m in skip_messages if SKIP_MARK in m})
    if not what:
        return None
    return (f"{len([m for m in skip_messages if SKIP_MARK in m])} browser tests skipped: {', '.join(what)} not "
            "installed. Enable them with `make browser` (root or sudo) and Node.js with npm (`npm ci`); "
            f"CI runs them with {REQUIRE_ENV}=1.")


def require_node():
    """The `node` binary, or skip/fail (see `missing`)."""
    node = shutil.which("node")
    if node is None:
        missing("Node.js", NODE_HINT)
    return node


def require_litert():
    """The `node_modules` holding LiteRT.js, or skip/fail (see `missing`)."""
    from kcolor.web.site import find_node_modules

    try:
        return find_node_modules()
    except FileNotFoundError:
        missing("LiteRT.js (npm @litertjs/core)", NODE_HINT)


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

    Skips the calling test (fails it under KCOLOR_REQUIRE_BROWSER=1) with the install
    command when the browser, its driver or selenium is missing.
    """
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing("selenium", INSTALL_HINT)
    browser = _which(BROWSERS, "KCOLOR_CHROMIUM")
    driver = _which(DRIVERS, "KCOLOR_CHROMEDRIVER")
    if browser is None or driver is None:
        missing("chromium" if browser is None else "chromedriver", INSTALL_HINT)
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
    """The path of the first finished download in `folder` that matches `pattern`.

    Chromium may show the final name before the bytes are all there (an empty file
    beside its `.crdownload`), so a download counts as finished when no partial file is
    left and its size is above zero and the same on two looks 0.2 s apart.
    """
    folder = Path(folder)
    deadline = time.monotonic() + timeout
    sizes = {}
    while time.monotonic() < deadline:
        partial = any(p.name.endswith((".crdownload", ".tmp")) for p in folder.iterdir())
        for path in [p for p in folder.glob(pattern) if not p.name.endswith((".crdownload", ".tmp"))]:
            size = path.stat().st_size
            if not partial and size > 0 and sizes.get(path) == size:
                return path
            sizes[path] = size
        time.sleep(0.2)
    raise AssertionError(f"No download matching {pattern!r} appeared in {folder} within {timeout:.0f} s")


# ---------------------------------------------------------------- kcolor web's page


def wait_state(browser, states, timeout=60.0):
    """The page's state (`document.body.dataset.state`) once it is one of `states`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = browser.execute_script("return document.body.dataset.state")
        if state in states:
            return state
        time.sleep(0.05)
    raise AssertionError(f"page state stayed {state!r}, not one of {states}, for {timeout:.0f} s")


def error_text(browser):
    """The message the page shows in its error state."""
    return browser.execute_script("return document.querySelector('[data-output=\"error\"]').textContent")


def open_page(browser, url):
    """Load the page at `url` and wait until it is ready (its model loaded)."""
    browser.get(url)
    state = wait_state(browser, ("ready", "error"))
    assert state == "ready", error_text(browser)


def give_file(browser, kind, path):
    """Give the page a file through its `photo` or `reference` input."""
    browser.find_element("css selector", f'input[type=file][data-input="{kind}"]').send_keys(str(path))


def colorized_png(browser):
    """Download the result through the page's link; check the img hook shows the same full-size PNG."""
    src, width, height = browser.execute_script(
        "const img = document.querySelector('img[data-output=\"colorized\"]');"
        "return [img.src, img.naturalWidth, img.naturalHeight];"
    )
    assert src.startswith("blob:")
    browser.find_element("css selector", '[data-output="download"]').click()
    path = wait_for_download(browser.downloads, "*.png")
    image = Image.open(path)
    assert image.mode == "RGB" and image.size == (width, height)
    return np.asarray(image, np.float64) / 255.0


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
