"""Where and how valuations run: the ``riskgrid`` command line, planning and (later) the Dask grid.

``grid`` may import :mod:`pricing`; :mod:`pricing` never imports ``grid``.
"""

__all__: list[str] = []
