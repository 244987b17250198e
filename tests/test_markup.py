"""Record bodies: the shortcuts in our Markdown render exactly what stock Python-Markdown does.

``markup._PlainTextInline`` skips the inline patterns on text none of them can
match, and ``markup._plain_blocks`` writes the HTML of bodies made only of
headings, plain paragraphs and tight one-line lists without parsing; if either
were ever wrong, a body would silently lose its emphasis, links or structure.
So every body of the sample data and of a synthetic data set, text built to
touch each inline pattern, and random texts of Markdown's special characters
must render byte for byte as stock does.
"""

from __future__ import annotations

import random
import re

import markdown

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
    plain = 0
    for text in bodies + TRICKY:
        expected = stock.reset().convert(text)
        assert markup._MARKDOWN.reset().convert(text) == expected, text[:80]
        written = markup._plain_blocks(text)
        assert written in (None, expected), text[:80]
        plain += written is not None
    assert plain > len(bodies) * 0.9  # the common body takes the short way


PLAIN_EDGES = [
    "## 标题\n\n段落一\n第二行\n\n- 一\n- 二\n\n段落", "#标题", "###### 六级", "####### 七个井号", "## 标题 ##", "## ",
    "段落\n## 标题", "- 一\n\n- 二", "- 一\n- 二\n续行", "- 一\n\n段落\n\n- 二", "1. 一\n2. 二", "2017.5 起", "2017年起",
    "\u3000\u3000缩进", "行尾空格 \n下一行", "    代码", "---", "段落\n===", "段落\n---", "+ 加号", "a\n\n\n\nb", "\n\n",
    "- # 标题", "- - 嵌套", "x\xa0y", "a\x0cb", "a\u2028b",
]
PLAIN_TOKENS = ["中文", "b。", " ", "\n", "\n\n", "#", "## ", "- ", "-", "+ ", "1. ", "12", ".", "=", "---", "\u3000", "\xa0",
                "\x0c", "\u2028", "#######", ":", "!", "(", "'", '"', "*", "_", "`", "<", ">", "&", "|", "~", "\\", "[", "]", "\t"]


def test_plain_bodies_are_written_as_stock_markdown_writes_them():
    stock = stock_markdown()
    rng = random.Random(8)
    texts = PLAIN_EDGES + ["".join(rng.choice(PLAIN_TOKENS) for _ in range(rng.randint(1, 25))) for _ in range(20000)]
    written = 0
    for text in texts:
        plain = markup._plain_blocks(text)
        if plain is not None:
            written += 1
            assert plain == stock.reset().convert(text), repr(text)
    assert written > 500  # the random texts do reach the short way


CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u3000-\u303f"
CJK_LINE_BREAK = re.compile(f"(?<=[{CJK}])\n(?=[{CJK}])")


def body_html_as_stock(stock: markdown.Markdown, text: str) -> str:
    """What ``render_body`` must give, written plainly: stock Markdown, headings one level down, line
    breaks between CJK characters dropped outside ``<pre>`` (then sanitized)."""
    html = re.sub(r"<(/?)h1>", r"<\1h2>", stock.reset().convert(text))
    parts = re.split(r"(<pre>.*?</pre>)", html, flags=re.S)
    return "".join(part if part.startswith("<pre>") else CJK_LINE_BREAK.sub("", part) for part in parts)


def test_bodies_are_the_sanitized_html_whichever_way_they_are_written(tmp_path):
    """Plain bodies skip nh3 (``render_body``): only where nh3 would give back the same bytes."""
    generate(tmp_path / "data", 300, seed=5)
    bodies = [r.body for data in (SAMPLE_DATA, tmp_path / "data") for r in load_catalog(data).records if r.body]
    rng = random.Random(9)
    tokens = PLAIN_TOKENS + ["\x00", "\x85", "\ufeff", "\U0001F600", "\x7f", "é", "\u200b", "=\"", "a\xa0b", "中\n文", "。\n，",
                             "a\nb", "```\n中\n文\n```", "<pre>中\n文</pre>", "<pre>"]
    texts = bodies + TRICKY + PLAIN_EDGES + ["".join(rng.choice(tokens) for _ in range(rng.randint(1, 25))) for _ in range(20000)]
    stock = stock_markdown()
    skipped = 0
    for text in texts:
        unsanitized = body_html_as_stock(stock, text)
        assert markup.render_body(text) == markup.sanitize(unsanitized), repr(text)
        skipped += markup._plain_blocks(text) is not None and markup.sanitize(unsanitized) == unsanitized
    assert skipped > len(bodies) * 0.9
