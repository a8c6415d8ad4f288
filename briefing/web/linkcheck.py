"""The desk's link check: each distinct http(s) link of an email and whether it answers.
The links come from feeds, so an address policy decides where they may lead."""

from __future__ import annotations

import asyncio
from html.parser import HTMLParser
from typing import Any

import httpx

from briefing.sources.addresses import AddressPolicy, AddressRefused


class _Hrefs(HTMLParser):
    """Every href attribute's value (entities decoded), of any element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.extend(v for k, v in attrs if k == "href" and v)

    handle_startendtag = handle_starttag


def links_in(html: str, *, skip: tuple[str, ...] = ()) -> list[str]:
    """The distinct http(s) links of ``html``, sorted; those starting with ``skip`` left out."""
    parser = _Hrefs()
    parser.feed(html)
    parser.close()
    return sorted(
        {
            u
            for u in parser.found
            if u.startswith(("http://", "https://")) and not u.startswith(skip)
        }
    )


async def check_links(
    html: str,
    *,
    skip: tuple[str, ...] = (),
    timeout: float = 5.0,
    policy: AddressPolicy | None = None,
) -> list[dict[str, Any]]:
    """Each distinct http(s) link of the email and whether it answers (HEAD, then GET).
    ``skip``: prefixes not to check (the reader's own links, the issue's archive page,
    which exists only once it is sent). ``policy`` (by default, public addresses only)
    decides where the links may lead, redirects included."""
    urls = links_in(html, skip=skip)
    limit = asyncio.Semaphore(8)

    async def one(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
        async with limit:
            try:
                r = await client.head(url)
                if r.status_code in (405, 403, 501):
                    r = await client.get(url)
                ok = r.status_code < 400
                return {"url": url, "ok": ok, "status": r.status_code, "error": None}
            except httpx.HTTPError as exc:
                return {"url": url, "ok": False, "status": None, "error": type(exc).__name__}
            except httpx.InvalidURL:  # not an HTTPError: a feed's "http://0177.0.0.1/"
                return {"url": url, "ok": False, "status": None, "error": "not a valid URL"}
            except AddressRefused as exc:
                return {"url": url, "ok": False, "status": None, "error": exc.reason}

    async with (policy or AddressPolicy()).async_client(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=5,
        headers={"User-Agent": "Briefing link check"},
    ) as client:
        return list(await asyncio.gather(*(one(client, u) for u in urls)))
