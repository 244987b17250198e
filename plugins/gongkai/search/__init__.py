"""Search (issue 5): a whoosh index for the terminal and a static index for the browser.

``step.write_search(site)`` is the build's "search index" step. It reads only
``site.publication`` (through ``documents.py``), analyzes every public record
once (``postings.py``), and from those postings writes

- the static index under ``search/index/<version>/`` and ``search/docs/``
  (``shards.py``), which ``theme/static/js/search.js`` queries on the page
  ``/search/``;
- the whoosh index beside the output folder (``index.py``), which
  ``invoke search`` queries (``query.py``); it is written by a forked process
  while this one encodes the static index.

Both rank with the same BM25F scores, so the browser and the terminal agree.
Every static file is keyed by its content, so a rebuild rewrites only the
files an edit changed.

The package imports nothing itself: the build's main process asks only
``kept`` (is there a corpus to patch?) and ``folders`` (where the whoosh index
goes), and on a rebuild the step runs in a forked process, which alone
imports numpy and whoosh (a quarter of a second).
"""
