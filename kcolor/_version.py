"""kcolor's version: one home, read by the package, the wheel's metadata and run folders."""

__version__ = "0.1.0"
