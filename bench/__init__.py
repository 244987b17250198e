"""The benchmark (``invoke bench``): our build against Hugo and plain Pelican on synthetic records.

``datasets`` makes and caches the seeded data sets, ``anchors`` writes the
same records as a Hugo and a Pelican site, ``measure`` times a whole process
and its peak memory, and ``run`` puts it together into one table and a JSON
file. Results: ``docs/performance.md``.
"""
