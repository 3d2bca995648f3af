"""``autocoder deploy``: one command from an installed package to running Spaces.

:mod:`.cards` and :mod:`.spaces` render each Space's files, :mod:`.bundle` stages a Space folder
(those files plus the library), :mod:`.plan` works out what differs on the Hub and
:mod:`.apply` makes it so. It sits beside ``apps`` in the layers: only ``cli`` imports it.
"""
