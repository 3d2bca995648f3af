"""autocoder: workers that analyse a code repository around the clock.

Layers, lowest first: ``errors`` and ``settings``, ``schema``, ``store``, ``engine``,
``workers``, then ``apps`` and ``cli``. A layer never imports a higher one.
"""

__version__ = "0.1.0"
