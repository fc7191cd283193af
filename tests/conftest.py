import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

from tests.browser import chromium  # noqa: E402,F401  (the headless browser fixture)


def pytest_terminal_summary(terminalreporter):
    from tests.browser import skipped_line

    messages = []
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        messages.append(longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr))
    line = skipped_line(messages)
    if line:
        terminalreporter.write_line(line)
