"""`python -m kcolor.bench`: the driver's command line (`kcolor.bench.run.main`).

The driver also starts every case as `python -m kcolor.bench --case JSON`.
"""

from kcolor.bench.run import main

raise SystemExit(main())
