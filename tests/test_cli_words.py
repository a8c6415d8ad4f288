"""The services' typed errors carry neutral hints (the desk shows them); the terminal
words them with the commands and flags to use (briefing.cli.words)."""

from __future__ import annotations

import pytest

from briefing import corrections, errors
from briefing.cli import words
from briefing.render.lint import Finding
from briefing.services import send

TYPED: list[tuple[errors.BriefingError, str, str]] = [
    (send.NothingApproved(), "no issue is approved for sending", "`briefing approve N --by NAME`"),
    (send.IssueClosed(4, "cancelled"), "issue 4 is cancelled", "`briefing draft`"),
    (
        send.IssueNotApproved(5),
        "issue 5 is a draft, not approved",
        "`briefing approve 5 --by NAME` (or send --force)",
    ),
    (errors.NoIssueYet(), "there is no issue yet", "build one with `briefing draft`"),
    (errors.IssueNotFound(7), "there is no issue 7", "list issues with `briefing issues`"),
    (errors.NotAnIssueNumber("x"), "'x' is not an issue number", "see `briefing issues`"),
    (
        errors.IssueStateError(3, "sent", "draft"),
        "issue 3 is sent; it cannot become draft",
        "see `briefing issues`",
    ),
    (
        errors.IssueNotEditable(3, "sent"),
        "only a draft or approved issue can be edited",
        "`briefing draft`",
    ),
    (errors.EmptySubject(), "the subject cannot be empty", "give --subject some text"),
    (errors.NothingToChange(), "nothing to change", "--preheader, --note, --exclude"),
    (errors.NoApprover(), "--by needs the approving editor's name", "--by 'Jane Editor'"),
    (errors.ArticleNotFound("abc"), "no article with id 'abc'", "`briefing articles`"),
    (
        errors.FeedNotAdded("f.xml"),
        "no feed 'f.xml' was added with --feed",
        "`briefing feeds list`",
    ),
    (
        errors.AlreadyAnEditor("a@x.org"),
        "a@x.org is already an editor",
        "`briefing editors passwd a@x.org`",
    ),
    (errors.NotAnEditor("a@x.org", "passwd"), "a@x.org is not an editor", "`briefing editors add`"),
    (
        errors.NotAnEditor("a@x.org", "remove"),
        "a@x.org is not an editor",
        "`briefing editors list`",
    ),
    (
        errors.AlreadySubscribed("a@x.org", "active"),
        "a@x.org is already on the list (active)",
        "`briefing subscribers show`",
    ),
    (
        corrections.InvalidCorrection("the title '\\x1b' has no text left once cleaned"),
        "no text left",
        "write FIELD=VALUE, e.g. --set title=",
    ),
    (errors.SubscriberNotFound("a@x.org"), "no subscriber a@x.org", "`briefing subscribers list`"),
]


@pytest.mark.parametrize(("exc", "message", "hint"), TYPED, ids=lambda x: type(x).__name__)
def test_the_terminal_words_each_typed_error(
    exc: errors.BriefingError, message: str, hint: str
) -> None:
    said, advice = words.error(exc)
    assert message in said and hint in advice


@pytest.mark.parametrize(("exc", "message", "hint"), TYPED, ids=lambda x: type(x).__name__)
def test_the_typed_errors_own_words_name_no_command_or_flag(
    exc: errors.BriefingError, message: str, hint: str
) -> None:
    for text in (exc.message, exc.hint):
        assert "briefing " not in text and "--" not in text, text


def test_a_hint_given_by_the_raiser_is_kept() -> None:
    exc = errors.IssueStateError(3, "sent", "draft", hint="the issue went out at 9:00")
    assert words.error(exc)[1] == "the issue went out at 9:00"


def test_an_uncertain_field_finding_names_the_correcting_command() -> None:
    f = Finding(
        "warning",
        "uncertain",
        "story 1: publisher uncertain (0.35): 'X' — check it or correct it",
        "c375b9cd0123456789",
        "publisher",
    )
    assert words.finding(f).endswith(
        "correct it with `briefing article c375b9cd01 --set publisher=... --by NAME`"
    )
    assert "briefing" not in f.message
