"""Compact JSON in UTF-8, as ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` writes it.

Written for every record's search document (``search/docs/<n>.json``), so by orjson: the same
bytes for all 20,000 records of the benchmark's data (keys in order; only ``"``, ``\\`` and control
characters escaped), in a third of json's time. A number under 0.0001 comes out as ``0.00001`` where
json writes ``1e-05``, the same value; what orjson refuses (an integer past 64 bits) json writes.
(The open data's lines stay with json: orjson writes a line in half the time, but a whole clean build
was no faster by it, paired (−0.02 s), and its forked workers' heaps grew by some 60 MB at 20,000 records.)
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def json_text(value: Any) -> str:
    """The same compact JSON as text, by json's C encoder (``indent`` would take its pure-Python one, 5x slower)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def compact_json(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json_text(value).encode("utf-8")
