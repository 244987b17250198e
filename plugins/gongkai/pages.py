"""HTML pages of the records (being written)."""


def write_pages(site) -> None:
    site.render("home.html", "", title="首页")
