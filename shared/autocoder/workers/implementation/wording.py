"""How the implementation worker's sentences count things."""


def plural(count: int, word: str) -> str:
    """``1 file``, ``2 files``, ``3 boxes``."""
    return f"{count} {word}{'' if count == 1 else ('es' if word.endswith('x') else 's')}"
