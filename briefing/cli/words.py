"""The terminal's words for Briefing's typed errors and lint findings.

The services raise errors that carry their data (an issue number, an address, a state)
with hints that make sense wherever they are shown, the desk included. Here each is worded
for the terminal, naming the command or flag to use. An error raised with a hint of its
own keeps it: only the class's default hint is replaced.
"""

from __future__ import annotations

from briefing import corrections, errors
from briefing.render.lint import Finding
from briefing.services import send


def _cli_hint(exc: errors.BriefingError) -> str | None:
    """The terminal's hint for ``exc``, or None to keep the one it carries."""
    match exc:
        case send.NothingApproved():
            return "approve one with `briefing approve N --by NAME`"
        case send.IssueClosed():
            return "build a new one with `briefing draft`"
        case send.IssueNotApproved(issue_id=issue_id):
            return f"approve it with `briefing approve {issue_id} --by NAME` (or send --force)"
        case send.SendRefused():
            return "see `briefing issues` for each issue's state"
        case errors.IssueNotEditable():
            return "build a new draft with `briefing draft`"
        case errors.IssueStateError():
            return "see `briefing issues` for each issue's state"
        case errors.NoIssueYet():
            return "build one with `briefing draft`"
        case errors.IssueNotFound():
            return "list issues with `briefing issues`"
        case errors.NotAnIssueNumber():
            return "issues are numbered: see `briefing issues`"
        case errors.EmptySubject():
            return "give --subject some text"
        case errors.NothingToChange():
            return "pass --subject, --preheader, --note, --exclude, --restore or --order"
        case errors.NoApprover():
            return "e.g. --by 'Jane Editor'"
        case errors.ArticleNotFound():
            return "list ids with `briefing articles`"
        case errors.FeedNotAdded():
            return "feeds from briefing.toml are removed by editing the file; see `briefing feeds list`"
        case errors.AlreadyAnEditor(address=address):
            return f"change the password with `briefing editors passwd {address}`"
        case errors.NotAnEditor(action="passwd"):
            return "add one with `briefing editors add`"
        case errors.NotAnEditor():
            return "see `briefing editors list`"
        case errors.AlreadySubscribed():
            return "see it with `briefing subscribers show`"
        case errors.SubscriberNotFound():
            return "list them with `briefing subscribers list`"
        case corrections.InvalidCorrection():
            return (
                "write FIELD=VALUE, e.g. --set title='The real headline' --set "
                "published=2026-01-07 (fields: " + ", ".join(corrections.EDITABLE) + ")"
            )
        case errors.StorageError():
            return "check storage.url in the config or the --db flag"
        case errors.NotFoundError():
            return "list what exists with the matching list command (e.g. `briefing articles`)"
        case _ if type(exc).default_hint == errors.BriefingError.default_hint:
            return "run the command again with --debug to see the traceback"
    return None


def _cli_message(exc: errors.BriefingError) -> str:
    match exc:
        case errors.NoApprover():
            return "--by needs the approving editor's name"
        case errors.FeedNotAdded(location=location):
            return f"no feed {location!r} was added with --feed"
    return exc.message


def error(exc: errors.BriefingError) -> tuple[str, str]:
    """What the terminal shows for ``exc``: the ``error:`` line and the ``hint:`` line."""
    hint = exc.hint
    if hint == type(exc).default_hint:
        hint = _cli_hint(exc) or hint
    return _cli_message(exc), hint


def finding(f: Finding) -> str:
    """A lint finding's message, with the command that corrects an uncertain field."""
    if f.check == "uncertain" and f.article and f.field:
        return f"{f.message} with `briefing article {f.article[:10]} --set {f.field}=... --by NAME`"
    return f.message
