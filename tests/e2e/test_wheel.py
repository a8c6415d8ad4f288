"""An install that works outside the checkout: the wheel is built from this checkout,
installed into a fresh venv in a temporary folder, and its `briefing` command runs the
main job there (ingest, draft, preview, approve, send to an outbox folder) with the
working directory a folder that has no templates/ of its own. The shipped templates come
from inside the installed package (briefing/templates); a user's templates folder
overrides one of them; a broken one stops with `error:` naming its file and line.

The wheel is built offline (hatchling from the test extra, no build isolation). The
fresh venv gets the wheel itself with ``--no-deps`` and borrows the already installed
dependencies of this checkout's venv through a path in a .pth file (the checkout's own
code is not on that path: the editable install's .pth there is not read), and the test
checks that every dependency the wheel declares is met. BRIEFING_WHEEL_FULL_INSTALL=1
installs the dependencies from the package index instead (needs the network, a minute or
two).
"""

from __future__ import annotations

import email
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from dataclasses import dataclass
from email import policy
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).parent.parent.parent
SECRET = "wheel-install-" + "w" * 26
SUBJECT_WORDS = "Why North Korea Fears Japan"


@dataclass(frozen=True)
class Installed:
    venv: Path
    briefing: Path
    python: Path


def _run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, (cmd, done.stdout[-3000:], done.stderr[-3000:])
    return done  # type: ignore[no-any-return]


def _clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BRIEFING_", "PYTHON", "VIRTUAL_ENV"))
    }
    env["BRIEFING_SECRET"] = SECRET
    return env


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist)]
    if importlib.util.find_spec("hatchling") is not None:
        build.append("--no-build-isolation")  # offline: the backend is already here
    _run([*build, str(REPO)], cwd=root)
    wheels = sorted(dist.glob("briefing-*.whl"))
    assert len(wheels) == 1, wheels

    target = root / "venv"
    assert not target.resolve().is_relative_to(REPO.resolve())
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            env=_clean_env(),
        ).stdout.strip()
    )
    full = os.environ.get("BRIEFING_WHEEL_FULL_INSTALL") == "1"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    _run([*pip, *([] if full else ["--no-deps"]), str(wheels[0])], cwd=root)
    if not full:
        # after the install, so pip never sees the checkout venv's (editable) briefing
        (site / "_borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return Installed(target, target / "bin" / "briefing", python)


def test_the_wheel_holds_the_package_data(installed: Installed) -> None:
    probe = """
import json, importlib.metadata as md
from pathlib import Path
import briefing, briefing.render.env as env
pkg = Path(briefing.__file__).parent
versions = {}
for line in md.requires("briefing") or []:
    name = line.split(";")[0].strip()
    name = next(iter(name.replace(">", " ").replace("<", " ").replace("=", " ").replace("[", " ").split()))
    try:
        versions[name] = md.version(name)
    except md.PackageNotFoundError:
        versions[name] = None
print(json.dumps({
    "package": str(pkg),
    "shipped": str(env.SHIPPED),
    "license": md.metadata("briefing")["License-Expression"],
    "requires": md.requires("briefing") or [],
    "versions": versions,
    "files": sorted(str(p.relative_to(pkg)) for p in pkg.rglob("*") if p.is_file()),
}))
"""
    cwd = installed.venv.parent
    done = _run([str(installed.python), "-c", probe], cwd=cwd, env=_clean_env())
    found = json.loads(done.stdout)
    package = Path(found["package"])
    assert package.is_relative_to(installed.venv), found["package"]
    assert Path(found["shipped"]) == package / "templates"
    assert found["license"] == "MIT"
    missing = []
    for line in found["requires"]:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue  # an extra: test, dev, train
        version = found["versions"].get(req.name)
        if version is None or not req.specifier.contains(version, prereleases=True):
            missing.append(f"{line} (found {version})")
    assert missing == []
    files = set(found["files"])
    for name in (
        "py.typed",
        "templates/email/issue.mjml.j2",
        "templates/email/issue.txt.j2",
        "templates/web/issue.html.j2",
        "templates/web/archive.atom.j2",
        "templates/pages/base.html.j2",
        "templates/pages/desk/home.html.j2",
        "store/migrations/env.py",
        "store/migrations/script.py.mako",
    ):
        assert name in files, name
    assert any(re.fullmatch(r"sources/extract/[^/]+\.json", f) for f in files)
    versions = {f for f in files if re.fullmatch(r"store/migrations/versions/\d+_\w+\.py", f)}
    shipped_versions = {
        f"store/migrations/versions/{p.name}"
        for p in (REPO / "briefing" / "store" / "migrations" / "versions").glob("[0-9]*.py")
    }
    assert versions == shipped_versions
    shipped_templates = {
        f"templates/{p.relative_to(REPO / 'templates')}" for p in (REPO / "templates").rglob("*.j2")
    }
    assert shipped_templates <= files


@dataclass
class Site:
    """A newsletter's folder outside the checkout: its config, seeds and subscribers."""

    root: Path
    installed: Installed
    issue: int = 0

    @property
    def config(self) -> Path:
        return self.root / "briefing.toml"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.installed.briefing), "--config", str(self.config), *args],
            cwd=self.root,
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        return done.stdout

    def use_templates(self, folder: str) -> None:
        text = self.config.read_text(encoding="utf-8")
        assert "\n[issue]\n" in text
        self.config.write_text(
            text.replace("\n[issue]\n", f'\n[issue]\ntemplates = "{folder}"\n'), encoding="utf-8"
        )


@pytest.fixture(scope="session")
def drafted(tmp_path_factory: pytest.TempPathFactory, installed: Installed) -> tuple[Path, int]:
    """A newsletter's folder with the seeds ingested, the sample subscribers imported and
    the issue drafted, by the installed command; each test works on a copy of it."""
    root = tmp_path_factory.mktemp("drafted") / "newsletter"
    root.mkdir()
    shutil.copy(REPO / "briefing.toml", root / "briefing.toml")  # relative paths: this folder
    shutil.copytree(REPO / "seeds", root / "seeds")
    shutil.copy(REPO / "subscribers" / "sample.csv", root / "subscribers.csv")
    first = Site(root, installed)
    first.ok("ingest", "--json")
    first.ok("subscribers", "import", "subscribers.csv")
    issue = json.loads(first.ok("draft", "--json"))
    assert issue["counts"]["included"] > 0, issue
    return root, int(issue["id"])


@pytest.fixture
def site(tmp_path: Path, installed: Installed, drafted: tuple[Path, int]) -> Site:
    root = tmp_path / "newsletter"
    shutil.copytree(drafted[0], root)
    assert not (root / "templates").exists()
    return Site(root, installed, drafted[1])


def test_the_installed_command_runs_the_main_job_outside_the_checkout(site: Site) -> None:
    issue = site.issue
    report = json.loads(site.ok("preview", str(issue), "--out", "preview", "--json"))
    assert report["html_bytes"] > 0
    preview_html = (site.root / "preview" / "issue.html").read_text(encoding="utf-8")
    assert SUBJECT_WORDS in preview_html
    site.ok("approve", str(issue), "--by", "Wheel Test")
    outbox = site.root / "sent"
    site.ok("send", str(issue), "--transport", f"outbox://{outbox}")
    messages = sorted((outbox / "new").glob("*.eml"))
    people = len((site.root / "subscribers.csv").read_text(encoding="utf-8").splitlines()) - 1
    assert 0 < len(messages) <= people
    msg = email.message_from_bytes(messages[0].read_bytes(), policy=policy.default)
    html = msg.get_body(("html",))
    text = msg.get_body(("plain",))
    assert html is not None and text is not None
    html_content = html.get_content()
    assert html_content.lstrip().lower().startswith("<!doctype html")
    assert SUBJECT_WORDS in html_content and "NVNK" in html_content
    assert "@@=" not in html_content  # every placeholder was filled in for the recipient
    assert f"<title>{msg['Subject']}</title>" in html_content
    assert SUBJECT_WORDS in " ".join(text.get_content().split())


def test_a_user_template_overrides_the_shipped_one(site: Site) -> None:
    own = site.root / "mytemplates" / "email"
    own.mkdir(parents=True)
    shipped = (REPO / "templates" / "email" / "issue.txt.j2").read_text(encoding="utf-8")
    (own / "issue.txt.j2").write_text(
        "OUR OWN TEXT TEMPLATE for {{ newsletter.name }}\n" + shipped, encoding="utf-8"
    )
    site.use_templates("mytemplates")
    issue = site.issue
    site.ok("preview", str(issue), "--out", "preview")
    text = (site.root / "preview" / "issue.txt").read_text(encoding="utf-8")
    assert text.startswith("OUR OWN TEXT TEMPLATE for The Northeast Asia Security Briefing")
    html = (site.root / "preview" / "issue.html").read_text(encoding="utf-8")
    assert "OUR OWN TEXT TEMPLATE" not in html and SUBJECT_WORDS in html  # still the shipped


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ("{{ links.unsubscribe }}\nfine\n{% if issue %}\nnever closed\n", 4, "syntax error"),
        ("{{ links.unsubscribe }}\nfine\n{{ no_such_thing.title }}\n", 3, "no_such_thing"),
    ],
    ids=["syntax", "render"],
)
def test_a_broken_user_template_names_its_file_and_line(
    site: Site, body: str, line: int, words: str
) -> None:
    own = site.root / "mytemplates" / "email"
    own.mkdir(parents=True)
    (own / "issue.txt.j2").write_text(body, encoding="utf-8")
    site.use_templates("mytemplates")
    issue = site.issue
    done = site.run("preview", str(issue), "--out", "preview")
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    error = next(x for x in done.stderr.splitlines() if x.startswith("error: "))
    assert "email/issue.txt.j2" in error and words in error, error
    assert f"{own / 'issue.txt.j2'}, line {line}" in error, error
    assert "hint: " in done.stderr and "templates folder" in done.stderr, done.stderr
