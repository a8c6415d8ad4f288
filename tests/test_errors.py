"""errors.py's docstring draws the whole error tree: every BriefingError subclass defined
anywhere in the package is named in it, under its own parent."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import briefing
from briefing import errors
from briefing.errors import BriefingError


def briefing_errors() -> dict[str, type[BriefingError]]:
    found: dict[str, type[BriefingError]] = {}
    for info in pkgutil.walk_packages(briefing.__path__, "briefing."):
        if info.name == "briefing.__main__":  # runs the CLI when imported
            continue
        if ".migrations" in info.name:  # alembic's scripts, run only by alembic
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BriefingError)
                and value.__module__ == module.__name__
            ):
                found[name] = value
    return found


def drawn() -> dict[str, int]:
    """Each class name in the tree, with the column it is drawn at."""
    tree: dict[str, int] = {}
    for line in (errors.__doc__ or "").splitlines():
        hit = re.match(r"^([ │├└─]*)([A-Z]\w+)\s{2,}", line)
        if hit:
            tree[hit.group(2)] = len(hit.group(1))
    return tree


def test_every_briefing_error_is_in_the_tree() -> None:
    classes = briefing_errors()
    assert {"BriefingError", "NotFoundError", "DeliveryError", "KeyChanged"} <= set(classes)
    missing = sorted(set(classes) - set(drawn()))
    assert not missing, f"add these to the tree in briefing/errors.py's docstring: {missing}"


def test_each_is_drawn_under_its_parent() -> None:
    tree = drawn()
    lines = (errors.__doc__ or "").splitlines()
    for name, cls in briefing_errors().items():
        if cls is BriefingError:
            continue
        parent = cls.__mro__[1].__name__
        # the nearest line above, one level less indented, is the parent
        row = next(i for i, line in enumerate(lines) if re.search(rf"[─ ]{name}\s", line))
        above = [
            n
            for line in reversed(lines[:row])
            if (m := re.match(r"^([ │├└─]*)([A-Z]\w+)\s{2,}", line))
            and len(m.group(1)) < tree[name]
            for n in [m.group(2)]
        ]
        assert above and above[0] == parent, (name, parent, above[:1])
