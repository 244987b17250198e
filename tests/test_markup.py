"""Record bodies: the shortcut in our Markdown renders exactly what stock Python-Markdown does.

``markup._PlainTextInline`` skips the inline patterns on text none of them can
match; if that were ever wrong, a body would silently lose its emphasis or
links. So every body of the sample data and of a synthetic data set, and text
built to touch each inline pattern, must render byte for byte as stock does.
"""

from __future__ import annotations

import markdown
import pytest

from conftest import SAMPLE_DATA

from gongkai import markup
from gongkai.catalog import load_catalog
from gongkai.synthetic import generate

TRICKY = [
    "换行前两个空格  \n下一行", "*强调* _强调_ **粗体** __粗体__ ***两者*** 中文*中*文", "`代码` ``双`反`引号``",
    "\\* 不是列表 \\_ \\` \\[", "[链接](https://example.gov.cn) [引用][1] [短引用]\n\n[1]: https://example.org",
    "![图](a.png) ![图引用][i]\n\n[i]: b.png", "<b>粗</b> <!-- 注释 --> <https://example.gov.cn> <someone@example.gov.cn>",
    "&amp; &copy; &#169; &#xA9; & 裸露的和号", "```\n代码  \n*不强调*\n```", "| 表 | *格* |\n|---|---|\n| `1` | [2](x) |",
    "1. 一\n2. 二\n\n* 三\n* 四", "> 引用 *强调*\n> 第二行", "# 标题 *一*\n\n正文", "行尾反斜杠\\\n下一行", "纯中文，没有任何标记。",
]


def stock_markdown() -> markdown.Markdown:
    return markdown.Markdown(extensions=["tables", "sane_lists", "fenced_code"], output_format="html")


def test_the_shortcut_is_in_place():
    assert isinstance(markup._MARKDOWN.treeprocessors["inline"], markup._PlainTextInline)


def test_bodies_render_exactly_as_stock_markdown(tmp_path):
    generate(tmp_path / "data", 300, seed=3)
    bodies = [r.body for data in (SAMPLE_DATA, tmp_path / "data") for r in load_catalog(data).records if r.body]
    stock = stock_markdown()
    for text in bodies + TRICKY:
        assert markup._MARKDOWN.reset().convert(text) == stock.reset().convert(text), text[:80]


@pytest.mark.parametrize("text", TRICKY)
def test_each_inline_pattern_still_applies(text):
    assert markup._MARKDOWN.reset().convert(text) == stock_markdown().convert(text)
