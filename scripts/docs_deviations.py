"""Write the README's table of every paper recipe's remaining deviations, read from the
recipe modules' docstrings (`kcolor.configs.deviations`).

    python scripts/docs_deviations.py          # make docs-deviations runs this

tests/test_docs_deviations.py checks that the committed README and the docstrings agree.
"""

import argparse

from readme_block import write_block

from kcolor.configs.deviations import README_BEGIN, README_END, render_markdown


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", default="README.md")
    args = parser.parse_args(argv)
    write_block(args.readme, README_BEGIN, README_END, render_markdown())
    print(f"wrote the deviations block of {args.readme}")


if __name__ == "__main__":
    main()
