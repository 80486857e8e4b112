"""Entries of official sites' feeds and news lists -> RawItem(kind="article")."""
from __future__ import annotations

from bs4 import BeautifulSoup

from collectors.adapters.common import join_text, utc_from_iso
from collectors.base import SourceConfig
from collectors.errors import SkipItem
from tsur.records import RawItem


def plain_text(html: str | None) -> str:
    """Visible text of an HTML fragment, links kept as "text (url)"."""
    if not html:
        return ""
    soup = BeautifulSoup(html, "lxml")
    for a in soup.find_all("a", href=True):
        if a["href"].startswith("http") and a["href"] not in a.get_text():
            a.append(f" ({a['href']})")
    return " ".join(soup.get_text(" ").split())


def adapt_web_entry(payload: dict, source: SourceConfig, pseudonymize) -> RawItem:
    """{"url", "title", "summary", "published", "id"?} -> RawItem; "published" falls back to "fetched"."""
    url = payload.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise SkipItem(f"entry without a usable url: {url!r}")
    published = payload.get("published") or payload.get("fetched")
    text = join_text(payload.get("title"), plain_text(payload.get("summary")))
    if not text:
        raise SkipItem(f"entry {url} has neither title nor summary")
    return RawItem(
        platform="web", source=source.key, item_id=str(payload.get("id") or url), kind="article",
        published_at=utc_from_iso(published), text=text, url=url, author=None, raw=payload,
    )
