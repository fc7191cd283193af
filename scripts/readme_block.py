"""Replace one generated block of the README: the text between a begin and an end marker.

    from readme_block import write_block          # scripts/ is on sys.path for its scripts
    write_block("README.md", "<!-- x:begin -->", "<!-- x:end -->", body)
"""

import sys


def write_block(readme, begin, end, body):
    """Put `body` between the `begin` and `end` markers of `readme` (exit naming them if absent)."""
    with open(readme) as f:
        text = f.read()
    if begin not in text or end not in text:
        sys.exit(f"{readme} has no {begin} ... {end} block")
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    with open(readme, "w") as f:
        f.write(head + begin + "\n" + body + end + tail)
