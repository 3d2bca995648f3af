"""Many strings scanned as one text: each detector runs once, each finding goes to its string."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

SEP = "\n\0\n"  # between strings: no detector matches across it
TRIM = " \t\r\n\"'`=:@\\"  # never part of a value: also keeps a JSON escape whole
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class Secret:
    """A secret at ``text[start:end]`` of one string, and its detect-secrets type."""

    start: int
    end: int
    kind: str


class Batch:
    """The strings joined into one text, and what was found, by string."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.big = SEP.join(texts)
        low = self.big.lower()
        self.low = low if len(low) == len(self.big) else self.big.translate(_ASCII_LOWER)
        self.starts, pos = [], 0
        for text in texts:
            self.starts.append(pos)
            pos += len(text) + len(SEP)
        self.found: list[list[Secret]] = [[] for _ in texts]

    def add(self, start: int, end: int, kind: str) -> None:
        """A secret at ``big[start:end]``, trimmed of quotes and delimiters."""
        while start < end and self.big[start] in TRIM:
            start += 1
        while end > start and self.big[end - 1] in TRIM:
            end -= 1
        i = bisect_right(self.starts, start) - 1
        if end > start and i >= 0:
            base = self.starts[i]
            self.found[i].append(Secret(start - base, min(end - base, len(self.texts[i])), kind))

    def holding(self, needle: str) -> list[int]:
        """The indexes of the strings holding ``needle`` (looked for in lower case if it is)."""
        if not needle:  # in every string; find("") would match at the end forever
            return list(range(len(self.texts)))
        text = self.low if needle.islower() else self.big
        out: list[int] = []
        at = text.find(needle)
        while at >= 0:
            i = bisect_right(self.starts, at) - 1
            out.append(i)
            at = text.find(needle, self.starts[i + 1] if i + 1 < len(self.starts) else len(text))
        return out

    def regex_over(self, regex: re.Pattern[str], indexes: list[int]) -> Iterator[re.Match[str]]:
        """Matches of ``regex`` in those strings only (from the separator before each, so that
        ``(?:\\s|^)`` still matches at a string's start)."""
        for i in indexes:
            start, end = self.starts[i], self.starts[i] + len(self.texts[i])
            yield from regex.finditer(self.big, max(0, start - 1), end)

    def secrets(self) -> list[list[Secret]]:
        """What was found in each string, merged where it overlaps, in order."""
        return [_merged(found) for found in self.found]


def _merged(found: list[Secret]) -> list[Secret]:
    merged: list[Secret] = []
    for secret in sorted(found, key=lambda s: (s.start, -s.end)):
        if merged and secret.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Secret(last.start, max(last.end, secret.end), last.kind)
        else:
            merged.append(secret)
    return merged
