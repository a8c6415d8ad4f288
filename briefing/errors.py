"""The errors Briefing raises on purpose, each with a message and a hint.

Every BriefingError subclass in the package is drawn here (tests/test_errors.py checks it),
with the module that defines it when that is not this one.

    BriefingError                 anything the CLI reports as `error:` + `hint:` and exit 1
    ├── ConfigError               the config file or a BRIEFING_* variable is wrong
    ├── StorageError              the database cannot be opened or migrated
    ├── SourceError               one seed file or feed could not be read or parsed
    │   ├── SeedError             a seed file (unreadable, empty, not text, bad front matter)
    │   │   └── NoArticleError    the page holds no article (a home page, a list, a cookie wall)
    │   ├── FeedError             a feed (network, HTTP status, size, not a feed, hostile XML)
    │   └── PageError             a page fetched from a URL (network, HTTP status, size, a PDF
    │                             or an image, a private address)
    ├── NotFoundError             a named thing (article, issue, subscriber) does not exist
    │   ├── NoIssueYet            no issue was ever built
    │   ├── IssueNotFound         no issue with that number
    │   ├── NotAnIssueNumber      an issue reference that is not a number
    │   ├── ArticleNotFound       no article with that id (or unique prefix)
    │   ├── FeedNotAdded          a feed to remove that was not added by hand
    │   ├── NotAnEditor           no editor account with that address
    │   └── SubscriberNotFound    no subscriber with that address
    ├── UnsafeHeader              a header value with CR or LF, or an address that cannot go on the wire
    ├── IssueStateError           an issue cannot move from its state to the one asked for
    │   └── IssueNotEditable      only a draft or an approved issue can be edited
    ├── EmptySubject              an issue's subject edited down to nothing
    ├── NothingToChange           an edit of an issue that changes nothing
    ├── NoApprover                an approval without the approving editor's name
    ├── AlreadyAnEditor           an editor account with that address exists
    ├── AlreadySubscribed         a subscriber added by hand is already on the list
    ├── InvalidCorrection         (corrections) an editor's correction of a field is not valid
    ├── InvalidAddress            (email_address) an email address that is not one
    ├── AddressRefused            (sources.addresses) a URL whose host is a private address
    ├── KeyChanged                (services.keyring) the signing secret or suppression key is
    │                             not the one the database recorded
    ├── SendRefused               (services.send) an issue that cannot be sent now
    │   ├── NothingApproved       no issue is approved (or sending)
    │   ├── IssueClosed           the issue was cancelled or expired
    │   └── IssueNotApproved      the issue is a draft, and the send was not forced
    ├── NotSending                (services.sendrun) a pause asked of an issue whose send
    │                             is not under way
    └── DeliveryError             (deliver.transports) the mail transport failed
        ├── RecipientRefused      the server refused one recipient (4xx for now, 5xx for good)
        ├── ConnectionLost        the connection dropped mid-message
        └── Undeliverable         this one message cannot go over this transport

    Exception
    └── LedgerFailed              (deliver.ledger) a send worker's parent could not record an
                                  operation; internal to the sender, never shown as it is

Library exceptions are translated at the boundary with ``raise ... from exc`` so the
traceback stays available under ``--debug``. The hints are neutral (the desk shows them
too); briefing/cli/words.py words the typed ones for the terminal.
"""

from __future__ import annotations


class BriefingError(Exception):
    """Base class: ``message`` says what went wrong, ``hint`` what to do about it."""

    default_hint = "try again; if it fails again, its traceback tells more"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint

    def __str__(self) -> str:
        return self.message


class ConfigError(BriefingError):
    default_hint = "fix the key named above in your config file (see README: Configuration)"


class StorageError(BriefingError):
    default_hint = "check storage.url in the config"


class SourceError(BriefingError):
    """One source failed; the run records it and goes on with the others."""

    def __init__(self, source: str, message: str, hint: str | None = None) -> None:
        super().__init__(f"{source}: {message}", hint)
        self.source = source
        self.reason = message


class SeedError(SourceError):
    default_hint = "fix or remove the seed file; other seeds were still ingested"


class NoArticleError(SeedError):
    """Not a failure of the file: the page it holds is not a story. Reported as a warning."""

    default_hint = "save the article's own page, not a home page, list or consent notice"


class FeedError(SourceError):
    default_hint = "check the feed URL in a browser; other feeds were still ingested"


class PageError(SourceError):
    """A URL given to `ingest --url` or the desk's "Add by URL" could not be made an article."""

    default_hint = "open the URL in a browser to check it; nothing was stored for it"


class NotFoundError(BriefingError):
    default_hint = "check the name or number against the list of what exists"


class UnsafeHeader(BriefingError):
    """Raised by the composers, whatever the value's source: text with CR or LF would add
    headers (or a body) of its own to the email."""

    default_hint = (
        "header-bound text is cleaned where it enters (form, CSV, CLI, config, feeds); "
        "a stored value that is not was written by something else: fix it and send again"
    )


# --- Errors that carry their data. The hints here are neutral (the
# desk shows them too); briefing/cli/words.py words each for the terminal, with the
# commands and flags to use.


class IssueStateError(BriefingError):
    """An issue cannot move from ``state`` to ``target`` (see briefing.states.TRANSITIONS)."""

    default_hint = "see each issue's state in the list of issues"

    def __init__(
        self,
        issue_id: int,
        state: str,
        target: str,
        message: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message or f"issue {issue_id} is {state}; it cannot become {target}", hint)
        self.issue_id = issue_id
        self.state = state
        self.target = target


class IssueNotEditable(IssueStateError):
    """Only a draft or an approved issue can be edited."""

    default_hint = "build a new draft"

    def __init__(self, issue_id: int, state: str) -> None:
        super().__init__(
            issue_id,
            state,
            "draft",
            f"issue {issue_id} is {state}; only a draft or approved issue can be edited",
        )


class NoIssueYet(NotFoundError):
    default_hint = "build a draft first"

    def __init__(self) -> None:
        super().__init__("there is no issue yet")


class IssueNotFound(NotFoundError):
    default_hint = "see the list of issues"

    def __init__(self, issue_id: int) -> None:
        super().__init__(f"there is no issue {issue_id}")
        self.issue_id = issue_id


class NotAnIssueNumber(NotFoundError):
    default_hint = "issues are numbered"

    def __init__(self, ref: str) -> None:
        super().__init__(f"{ref!r} is not an issue number")
        self.ref = ref


class EmptySubject(BriefingError):
    default_hint = "give the subject some text"

    def __init__(self) -> None:
        super().__init__("the subject cannot be empty")


class NothingToChange(BriefingError):
    default_hint = "change the subject, preheader or note, or exclude, restore or reorder stories"

    def __init__(self) -> None:
        super().__init__("nothing to change")


class NoApprover(BriefingError):
    """An approval records who approved: a name is required."""

    default_hint = "e.g. 'Jane Editor'"

    def __init__(self) -> None:
        super().__init__("an approval needs the approving editor's name")


class ArticleNotFound(NotFoundError):
    default_hint = "check the id: the full id, or a unique prefix of 6 characters or more"

    def __init__(self, article_id: str) -> None:
        super().__init__(f"no article with id {article_id!r}")
        self.article_id = article_id


class FeedNotAdded(NotFoundError):
    """Only a feed added by hand can be removed; a configured one is removed from the config."""

    default_hint = "feeds from briefing.toml are removed by editing the file"

    def __init__(self, location: str) -> None:
        super().__init__(f"no feed {location!r} was added by hand")
        self.location = location


class AlreadyAnEditor(BriefingError):
    default_hint = "set a new password for the account instead"

    def __init__(self, address: str) -> None:
        super().__init__(f"{address} is already an editor")
        self.address = address


class NotAnEditor(NotFoundError):
    """``action``: what was tried, "passwd" (a new password) or "remove"."""

    default_hint = "check the address against the list of editors"

    def __init__(self, address: str, action: str) -> None:
        super().__init__(f"{address} is not an editor")
        self.address = address
        self.action = action


class AlreadySubscribed(BriefingError):
    default_hint = "see their record and history"

    def __init__(self, address: str, status: str) -> None:
        super().__init__(f"{address} is already on the list ({status})")
        self.address = address
        self.status = status


class SubscriberNotFound(NotFoundError):
    default_hint = "check the address against the list of subscribers"

    def __init__(self, address: str) -> None:
        super().__init__(f"no subscriber {address}")
        self.address = address
