"""The Jinja environment the records' pages are rendered with: stock Jinja, made cheaper per page.

A clean build renders some 25,000 pages at 20,000 records, each in a few hundred
microseconds of Jinja; what stock Jinja spends beside the template's own work is
paid that many times. None of these changes what a template means or what it
outputs (a test renders every page both ways); each removes a per-page cost:

- ``FlatGlobalsTemplate``: a template's globals as a plain dict;
- ``JoinedOutputCodeGenerator``: one string yielded per run of output and per block, not one
  per piece, and each ``{{ … }}`` escaped by ``escape_output``;
- ``DirectCallContext``: a call to a plain function or macro without Jinja's per-call checks.

Measured on 1,300 record pages in one process, rendered alternately with stock Jinja and
with these: 243–266 µs a page against 172–194 µs (``docs/performance.md``).

``tune`` puts them in an environment; ``prepare_templates`` adds the compiled-template cache.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import FunctionType, MethodType
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache, Template
from jinja2.compiler import CodeGenerator
from jinja2.runtime import Context, Macro
from markupsafe import escape

from .buildcache import code_fingerprint
from .site import Site


class FlatGlobalsTemplate(Template):
    """A template whose globals are a plain dict, not Jinja's ``ChainMap`` of its own and the environment's.

    Every render copies a template's globals into its context, and every ``{% from … import %}``
    compares the two templates' globals; over a ``ChainMap`` both go key by key in Python: 23 of
    the 28 µs of rendering an empty template, ≈40 µs of a record page's ≈300–500. A snapshot is
    right because the records generator sets the environment's globals before any template loads,
    and sets this class then (the search step renders /search/ before the pages step on a clean build).
    """

    @classmethod
    def from_code(cls, environment, code, globals, uptodate=None):
        return super().from_code(environment, code, dict(globals), uptodate)


def escape_output(value: Any) -> str:
    """``{{ value }}`` under autoescape: the text ``markupsafe.escape`` gives, as a plain ``str``.

    Output is joined into the page, so the ``Markup`` that ``escape`` wraps every piece in (a
    Python constructor, two thirds of its cost, some 120 times a record page) is never looked at;
    most text has nothing to escape, which five substring tests tell.
    """
    if value.__class__ is str:
        if "&" in value or "<" in value or ">" in value or '"' in value or "'" in value:
            return escape(value)
        return value
    html = getattr(value, "__html__", None)  # Markup (a macro's or a filter's output) is already safe
    return html() if html is not None else escape(value)


class JoinedOutputCodeGenerator(CodeGenerator):
    """Compiles a run of template text and ``{{ … }}`` (an ``Output`` node) to one ``yield`` of the
    pieces joined, and a block to one ``yield`` of its whole output, where stock Jinja 3 yields
    each piece; each ``{{ … }}`` under autoescape is escaped by ``escape_output``.

    A record page was some 245 pieces, and each piece a block yields is handed up through every
    template above it (``record_case.html`` → ``record.html`` → ``layout.html`` → ``base.html``,
    a generator each). The pieces are the text stock Jinja yields, joined as ``Template.render``
    joins them. A block collects its pieces in a list as Jinja itself does in a macro, a
    ``{% set %}`` block or a filter block (a frame's ``buffer``), which wrap what they collect in
    ``Markup`` as before.
    """

    def visit_Output(self, node, frame) -> None:
        if frame.buffer is not None or len(node.nodes) < 2:
            super().visit_Output(node, frame)
            return
        # Stock visit_Output writes a buffered frame's output as ``<buffer>.extend((piece, …))``, or
        # ``<buffer>.append(piece,)`` when its pieces fold into one: the same pieces, joined and yielded.
        frame.buffer = _JOINED
        try:
            super().visit_Output(node, frame)
        finally:
            frame.buffer = None

    def blockvisit(self, nodes, frame) -> None:
        # A block's body (``block_frame``; its ``if`` branches are copies of that frame, with
        # this buffer) collects its output and yields it once, as Jinja does in a macro.
        if not frame.block_frame or frame.buffer is not None or self.environment.is_async:
            super().blockvisit(nodes, frame)
            return
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = []")
        super().blockvisit(nodes, frame)
        self.writeline(f'yield "".join({frame.buffer})')
        frame.buffer = None

    def _output_child_pre(self, node, frame, finalize) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("escape_output(")
        if finalize.src is not None:
            self.write(finalize.src)

    def writeline(self, x: str, node=None, extra: int = 0) -> None:
        if x.startswith(_JOINED):
            x = {f"{_JOINED}.extend((": 'yield "".join((', f"{_JOINED}.append(": "yield str("}[x]
        super().writeline(x, node, extra)
        if x.startswith("from jinja2.runtime import "):  # a compiled template's imports
            super().writeline(f"from {__name__} import escape_output")


_JOINED = "__gongkai_joined"
"""The buffer name ``JoinedOutputCodeGenerator`` gives its output while stock Jinja writes it."""


class DirectCallContext(Context):
    """Calls a plain Python function or a macro from a template directly.

    ``Context.call`` asks every callable, on every call, whether it wants the context, the
    evaluation context or the environment passed in (``pass_context`` and its kin): three
    attribute lookups that mostly fail, some thirty times a record page. A function or
    method that was not marked, and every macro, takes the arguments as they are, which is
    what ``Context.call`` ends up doing with them; anything else goes the stock way.
    """

    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # (names as Jinja's: kwargs may hold any)
        kind = type(__obj)
        if kind is MethodType:
            function = __obj.__func__
        elif kind is FunctionType or kind is Macro:
            function = __obj
        else:
            return super().call(__obj, *args, **kwargs)
        if kind is not Macro and (type(function) is not FunctionType or "jinja_pass_arg" in function.__dict__):
            return super().call(__obj, *args, **kwargs)
        kwargs.pop("_block_vars", None)
        kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception")


def tune(env: Environment) -> None:
    """Use this module's template, code generator and context in ``env`` (before it loads a template)."""
    env.template_class = FlatGlobalsTemplate
    env.code_generator_class = JoinedOutputCodeGenerator
    env.context_class = DirectCallContext


def prepare_templates(site: Site) -> None:
    """Templates are compiled once per template change, not per build, and checked once per build."""
    site.env.auto_reload = False  # they do not change during a build: no stat() per template per page
    cache_dir = site.setting("GONGKAI_CACHE_PATH")
    if cache_dir and site.env.bytecode_cache is None:
        # Jinja keys a compiled template by its source; ours are compiled by our code generator too.
        templates = Path(cache_dir) / "templates"
        folder = templates / code_fingerprint()[:16]
        if not folder.is_dir():
            shutil.rmtree(templates, ignore_errors=True)  # compiled by earlier code
            folder.mkdir(parents=True)
        site.env.bytecode_cache = FileSystemBytecodeCache(str(folder))
