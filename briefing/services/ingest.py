"""Composition: the few functions that wire sources, normalization and the store together.

Each source (a seed file, a feed) is read and stored in its own transaction: one that
fails is recorded with its error and the run goes on; nothing stored earlier is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from briefing.clock import utcnow
from briefing.config import Settings
from briefing.errors import BriefingError, NoArticleError, SeedError, SourceError
from briefing.models import Article, SourceReport, digest
from briefing.sources.seed import SeedParser

if TYPE_CHECKING:  # the feed machinery (httpx, feedparser) loads only when feeds are read
    import httpx

    from briefing.sources.fetch import Fetched
from briefing.store import articles as store
from briefing.store.articles import UpsertResult
from briefing.store.retry import retry_on_conflict

Progress = Callable[[SourceReport], None]
FETCH_WORKERS = 8


@dataclass(frozen=True)
class FeedSpec:
    location: str
    name: str | None = None
    origin: str = "config"

    @property
    def key(self) -> str:
        return "feed:" + self.location


def feed_location(value: str, base: Path | None = None) -> str:
    """URLs stay as given; a local path is made absolute so its key is stable."""
    from briefing.sources.fetch import is_remote, local_path

    if is_remote(value):
        return value.strip()
    path = local_path(value)
    if path is None:
        return value.strip()
    if not path.is_absolute() and base is not None:
        path = base / path
    return str(path.resolve())


def seed_files(folder: Path, patterns: Iterable[str]) -> list[Path]:
    if not folder.is_dir():
        raise SeedError(
            str(folder),
            "seeds folder does not exist",
            "create it, or set seeds.folder in the config / pass --seeds DIR",
        )
    found: set[Path] = set()
    for pattern in patterns:
        found.update(p for p in folder.glob(pattern) if not p.name.startswith("."))
    return sorted(found)


def ingest(
    settings: Settings,
    engine: Engine,
    *,
    seeds_dir: Path | None = None,
    feeds: Sequence[str] = (),
    urls: Sequence[str] = (),
    only_given: bool = False,
    keep_feeds: bool = True,
    now: datetime | None = None,
    progress: Progress | None = None,
    client: httpx.Client | None = None,
) -> list[SourceReport]:
    """Ingest seeds, feeds and pages (``urls``, fetched once each, never kept on a list).
    With ``only_given``, just the seeds folder, feeds and URLs named. A feed named here
    joins the list fetched on later runs once it has worked, unless ``keep_feeds`` is
    false (``--once``); one already on the list stays on it."""
    now = now or utcnow()
    reports: list[SourceReport] = []

    def done(report: SourceReport) -> None:
        reports.append(report)
        if progress:
            progress(report)

    folder = seeds_dir if seeds_dir is not None else (None if only_given else settings.seeds_dir)
    if folder is not None:
        ingest_seeds(settings, engine, folder, now=now, report=done)
    specs = [FeedSpec(feed_location(f), origin="cli" if keep_feeds else "adhoc") for f in feeds]
    if not only_given:
        specs = [*configured_feeds(settings, engine), *specs]
    ingest_feeds(settings, engine, _unique_specs(specs), now=now, report=done, client=client)
    for url in dict.fromkeys(u.strip() for u in urls):
        done(add_page(settings, engine, url, now=now).report)
    return reports


@dataclass(frozen=True)
class Added:
    """A page added by URL or pasted: the ingest report, and the article as stored (with
    any earlier correction applied), or None when nothing was stored."""

    report: SourceReport
    article: Article | None


def add_page(
    settings: Settings,
    engine: Engine,
    url: str,
    *,
    now: datetime | None = None,
    client: httpx.Client | None = None,
) -> Added:
    """Fetch one page (``briefing.sources.webpage``: the fetch and address policies) and
    store its article; the same URL again updates it. A page with no article is a warning
    and stores nothing; a failure is recorded and stores nothing."""
    from briefing.sources.addresses import AddressPolicy
    from briefing.sources.webpage import fetch_page, page_article, printable, source_key

    now = now or utcnow()
    url = url.strip()
    key = source_key(url)
    try:
        fetched = fetch_page(
            url, settings.fetch, policy=AddressPolicy.from_settings(settings.fetch), client=client
        )
        article = page_article(SeedParser(settings.seeds.boilerplate), fetched, source=key)
    except NoArticleError as exc:
        return Added(
            SourceReport(key, "page", status="warning", warnings=(exc.reason,), hint=exc.hint),
            None,
        )
    except SourceError as exc:
        _record_failure(engine, key, "page", printable(url), None, exc, now, origin="adhoc")
        report = SourceReport(
            key, "page", failed=1, status="error", error=exc.reason, hint=exc.hint
        )
        return Added(report, None)
    report = _store(engine, key, "page", url, None, "adhoc", [article], [], now, None)
    return Added(report, _stored(engine, article.id))


def add_paste(
    settings: Settings,
    engine: Engine,
    text: str,
    *,
    url: str | None = None,
    now: datetime | None = None,
) -> Added:
    """A text dump typed or pasted on the desk, read exactly like a seed file (front
    matter included); ``url`` is the page's address when the editor gives it. The same
    text again updates its article, never duplicates it."""
    now = now or utcnow()
    key = "paste:" + digest(text.strip(), url or "")[:16]
    try:
        article = SeedParser(settings.seeds.boilerplate).parse_text(text, source=key, url=url)
    except NoArticleError as exc:
        return Added(
            SourceReport(key, "seed", status="warning", warnings=(exc.reason,), hint=exc.hint),
            None,
        )
    except SeedError as exc:
        report = SourceReport(
            key, "seed", failed=1, status="error", error=exc.reason, hint=exc.hint
        )
        return Added(report, None)
    report = _store(engine, key, "seed", key, None, "desk", [article], [], now, None)
    return Added(report, _stored(engine, article.id))


def _stored(engine: Engine, article_id: str) -> Article | None:
    with engine.connect() as conn:
        return store.get_article(conn, article_id)


def configured_feeds(settings: Settings, engine: Engine) -> list[FeedSpec]:
    specs = [
        FeedSpec(feed_location(f.url, settings.root), f.name, "config") for f in settings.feeds
    ]
    with engine.connect() as conn:
        specs += [FeedSpec(r["location"], r["name"], "cli") for r in store.cli_feeds(conn)]
    return specs


def _unique_specs(specs: Sequence[FeedSpec]) -> list[FeedSpec]:
    seen: dict[str, FeedSpec] = {}
    for spec in specs:
        seen.setdefault(spec.key, spec)
    return list(seen.values())


def ingest_seeds(
    settings: Settings, engine: Engine, folder: Path, *, now: datetime, report: Progress
) -> None:
    parser = SeedParser(settings.seeds.boilerplate)
    try:
        files = seed_files(folder, settings.seeds.patterns)
    except SeedError as exc:
        report(
            SourceReport(
                str(folder), "seed", failed=1, status="error", error=exc.reason, hint=exc.hint
            )
        )
        return
    for path in files:
        key = f"seed:{path.name}"
        try:
            article = parser.parse_file(path, source=key)
        except NoArticleError as exc:  # not a failure of the file: reported, nothing stored
            report(
                SourceReport(key, "seed", status="warning", warnings=(exc.reason,), hint=exc.hint)
            )
            continue
        except SeedError as exc:
            _record_failure(engine, key, "seed", str(path), None, exc, now)
            report(
                SourceReport(key, "seed", failed=1, status="error", error=exc.reason, hint=exc.hint)
            )
            continue
        report(_store(engine, key, "seed", str(path), None, "folder", [article], [], now, None))


def ingest_feeds(
    settings: Settings,
    engine: Engine,
    specs: Sequence[FeedSpec],
    *,
    now: datetime,
    report: Progress,
    client: httpx.Client | None = None,
) -> None:
    if not specs:
        return
    with engine.connect() as conn:
        state = {s.key: store.get_source(conn, s.key) or {} for s in specs}
    own = client is None
    from briefing.sources.fetch import fetch, make_client

    client = client or make_client(settings.fetch)

    def get(spec: FeedSpec) -> Fetched:
        prior = state[spec.key]
        return fetch(
            spec.location,
            settings.fetch,
            etag=prior.get("etag"),
            last_modified=prior.get("last_modified"),
            client=client,
        )

    try:
        with ThreadPoolExecutor(max_workers=min(FETCH_WORKERS, len(specs))) as pool:
            futures = [(spec, pool.submit(get, spec)) for spec in specs]
            for spec, future in futures:
                report(_finish_feed(engine, spec, future.result, now))
    finally:
        if own:
            client.close()


def _finish_feed(
    engine: Engine, spec: FeedSpec, result: Callable[[], Fetched], now: datetime
) -> SourceReport:
    try:
        fetched = result()
        if fetched.not_modified:
            with engine.begin() as conn:
                store.ensure_source(
                    conn,
                    spec.key,
                    kind="feed",
                    location=spec.location,
                    name=spec.name,
                    origin=spec.origin,
                )
                store.record_source(
                    conn,
                    spec.key,
                    now=now,
                    status="not_modified",
                    http_status=304,
                    etag=fetched.etag,
                    last_modified=fetched.last_modified,
                )
            return SourceReport(spec.key, "feed", status="not_modified")
        assert fetched.content is not None
        from briefing.sources.feed import parse_feed

        items, warnings = parse_feed(
            fetched.content,
            source=spec.key,
            url=fetched.url,
            content_type=fetched.content_type,
            name=spec.name,
            now=now,
        )
    except SourceError as exc:
        _record_failure(engine, spec.key, "feed", spec.location, spec, exc, now)
        return SourceReport(
            spec.key, "feed", failed=1, status="error", error=exc.reason, hint=exc.hint
        )
    return _store(
        engine, spec.key, "feed", spec.location, spec, spec.origin, items, warnings, now, fetched
    )


def _store(
    engine: Engine,
    key: str,
    kind: str,
    location: str,
    spec: FeedSpec | None,
    origin: str,
    items: Sequence[Article],
    warnings: Sequence[str],
    now: datetime,
    fetched: Fetched | None,
) -> SourceReport:
    def write() -> UpsertResult:
        # another worker may store the same item between our read and our insert: the
        # transaction rolls back whole, and the second attempt sees its rows and updates
        with engine.begin() as conn:
            store.ensure_source(
                conn,
                key,
                kind=kind,
                location=location,
                name=spec.name if spec else None,
                origin=origin,
            )
            result = store.upsert_articles(conn, items, now)
            store.record_source(
                conn,
                key,
                now=now,
                status="ok",
                http_status=fetched.status if fetched else None,
                etag=fetched.etag if fetched else None,
                last_modified=fetched.last_modified if fetched else None,
                items=len(items),
            )
        return result

    result = retry_on_conflict(write, attempts=2)
    notes = [n for a in items for n in a.notes]
    return SourceReport(
        key,
        "seed" if kind == "seed" else "page" if kind == "page" else "feed",
        new=result.count("new"),
        updated=result.count("updated"),
        unchanged=result.count("unchanged"),
        duplicates=result.count("duplicate"),
        warnings=tuple([*warnings, *notes]),
    )


def _record_failure(
    engine: Engine,
    key: str,
    kind: str,
    location: str,
    spec: FeedSpec | None,
    exc: BriefingError,
    now: datetime,
    origin: str | None = None,
) -> None:
    # a failure never puts a --feed on the list ("adhoc" leaves a row's origin as it is):
    # one that has not worked yet is not fetched again on later runs
    if origin is None:
        origin = "folder" if spec is None else "adhoc" if spec.origin == "cli" else spec.origin
    with engine.begin() as conn:
        store.ensure_source(
            conn, key, kind=kind, location=location, name=spec.name if spec else None, origin=origin
        )
        store.record_source(
            conn,
            key,
            now=now,
            status="error",
            error=exc.reason if isinstance(exc, SourceError) else exc.message,
        )
