"""hexexec: the execution worker of a crypto trading bot (see README.md)."""

__version__ = "0.1.0"
