"""Where records go: a folder laid out like the Hub dataset repo, optionally pushed to the Hub."""

from autocoder.store.local import LocalStore
from autocoder.store.reader import DatasetReader, LocalReader

__all__ = ["DatasetReader", "LocalReader", "LocalStore"]
