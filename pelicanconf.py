"""Pelican settings for local builds. ``publishconf.py`` adds the deployment ones."""

SITENAME = "公开 · 党务政务公开与问责信息平台"
SITESUBTITLE = "党务公开、政务公开、问责案例与述职述廉报告"
SITEURL = ""
DEFAULT_LANG = "zh-CN"
TIMEZONE = "Asia/Shanghai"

PATH = "content"
THEME = "theme"
PLUGIN_PATHS = ["plugins"]
PLUGINS = ["gongkai"]

# --- Gongkai ---------------------------------------------------------------
GONGKAI_DATA_PATH = "data"
GONGKAI_PAGE_SIZE = 50          # records per listing page
FEED_MAX_ITEMS = 50             # newest entries per feed
GONGKAI_LICENSE = "CC BY 4.0"   # licence of the open data
# Editorial pages (content/pages/*.md, by Slug) linked from every page's footer and listed in sitemap.xml.
GONGKAI_EDITORIAL_PAGES = [
    ("关于本站", "about/"),
    ("数据说明", "data-notes/"),
    ("使用指南", "guide/"),
    ("从提交到发布", "workflow/"),
    ("更正与撤回政策", "policy/"),
    ("数据下载", "downloads/"),
]

# Records have their own generator; Pelican only renders the editorial pages
# in content/pages/. Everything Pelican would make from articles is off.
PAGE_PATHS = ["pages"]
ARTICLE_PATHS = ["articles"]
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
INDEX_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
TAGS_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
CATEGORY_SAVE_AS = ""
TAG_SAVE_AS = ""
FEED_ALL_ATOM = None
FEED_ALL_RSS = None
CATEGORY_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
DIRECT_TEMPLATES = []
THEME_STATIC_DIR = "theme"
STATIC_PATHS = []
LOAD_CONTENT_CACHE = False
RELATIVE_URLS = False
DEFAULT_DATE = "fs"
# Editorial pages: Pelican's Markdown settings without codehilite. The theme styles plain
# <pre><code>, and Pygments guessing a code block's language imports every lexer plugin
# installed (over a second of every build).
MARKDOWN = {
    "extension_configs": {"markdown.extensions.extra": {}, "markdown.extensions.meta": {}},
    "output_format": "html5",
}

# Every template autoescapes: nothing a record holds is trusted as HTML.
JINJA_ENVIRONMENT = {"autoescape": True, "trim_blocks": True, "lstrip_blocks": True}
