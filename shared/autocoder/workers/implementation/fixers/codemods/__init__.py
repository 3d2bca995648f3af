"""Security fixes as libcst codemods, one module per fix; :mod:`._common` holds what they share.

Each module offers ``fixes(item, root) -> list[Fix]`` and raises :class:`._common.Refused` with
the reason when it cannot be sure of the change; :mod:`..security` routes items to them.
"""
