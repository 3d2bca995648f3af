"""The generic machinery every worker runs on: targets, perspectives, caching, the loop."""

from autocoder.engine import astlock

astlock.install()  # before any perspective parses: see astlock
