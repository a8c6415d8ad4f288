"""Settings: layering, validation, and errors that name the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefing.config import load_settings
from briefing.errors import ConfigError

REPO = Path(__file__).parent.parent


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings(None, env={})
    assert s.source == "built-in defaults"
    assert s.database_url == f"sqlite:///{tmp_path.resolve()}/var/briefing.db"
    assert s.seeds_dir == tmp_path / "seeds"


def test_shipped_config_is_valid() -> None:
    s = load_settings(REPO / "briefing.toml", env={})
    assert s.newsletter.language == "en"
    assert s.database_url.endswith("/var/briefing.db")
    assert s.database_url.startswith(f"sqlite:///{REPO.resolve()}")


def test_layers_file_then_env_then_flags(tmp_path: Path) -> None:
    cfg = tmp_path / "b.toml"
    cfg.write_text(
        '[newsletter]\nname = "From File"\nlanguage = "de"\n[storage]\nurl = "sqlite:///file.db"\n'
    )
    s = load_settings(cfg, env={})
    assert (s.newsletter.name, s.newsletter.language) == ("From File", "de")
    assert s.database_url == f"sqlite:///{tmp_path.resolve()}/file.db"  # relative to the file
    s = load_settings(
        cfg,
        env={"BRIEFING_NEWSLETTER_NAME": "From Env", "BRIEFING_STORAGE_URL": "sqlite:///env.db"},
    )
    assert s.newsletter.name == "From Env"
    assert s.newsletter.language == "de"  # untouched keys keep the file's value
    s = load_settings(
        cfg,
        env={"BRIEFING_STORAGE_URL": "sqlite:///env.db"},
        overrides={"storage": {"url": "sqlite:////abs/flag.db"}},
    )
    assert s.database_url == "sqlite:////abs/flag.db"


def test_briefing_config_variable(tmp_path: Path) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text('[newsletter]\nname = "Via Env"\n')
    assert load_settings(None, env={"BRIEFING_CONFIG": str(cfg)}).newsletter.name == "Via Env"


@pytest.mark.parametrize(
    "content, where",
    [
        ('[newsletter]\nbase_url = "ftp://x"\n', "newsletter.base_url"),
        ('[newsletter]\nnmae = "typo"\n', "newsletter.nmae"),
        ("[fetch]\ntimeout = -1\n", "fetch.timeout"),
        ('[[feeds]]\nname = "no url"\n', "feeds[0].url"),
        ('[seeds]\nboilerplate = ["(unclosed"]\n', "seeds.boilerplate"),
    ],
)
def test_invalid_values_name_key_and_file(tmp_path: Path, content: str, where: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={})
    assert where in info.value.message
    assert str(cfg) in info.value.message


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    cfg = tmp_path / "broken.toml"
    cfg.write_text("[newsletter\nname = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(cfg, env={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", env={})


def test_env_value_is_validated_too(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"fetch\.timeout"):
        load_settings(None, env={"BRIEFING_FETCH_TIMEOUT": "soon"})


def test_env_errors_name_the_variable(tmp_path: Path) -> None:
    cfg = tmp_path / "ok.toml"
    cfg.write_text("[fetch]\ntimeout = 5\n")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={"BRIEFING_FETCH_TIMEOUT": "abc"})
    assert "BRIEFING_FETCH_TIMEOUT" in info.value.message


def test_env_lists_are_json(tmp_path: Path) -> None:
    s = load_settings(None, env={"BRIEFING_SEEDS_PATTERNS": '["*.md"]'})
    assert s.seeds.patterns == ("*.md",)
    with pytest.raises(ConfigError, match="BRIEFING_SEEDS_PATTERNS is not valid JSON"):
        load_settings(None, env={"BRIEFING_SEEDS_PATTERNS": "[*.md]"})


def _secret_in_child(folder: str, start: object, out: object) -> None:
    import os

    os.environ.pop("BRIEFING_SECRET", None)
    settings = load_settings(Path(folder) / "b.toml", env={})
    start.wait()  # type: ignore[attr-defined]
    out.put(settings.secrets())  # type: ignore[attr-defined]


def test_processes_starting_together_agree_on_one_generated_secret(tmp_path: Path) -> None:
    """No BRIEFING_SECRET: the first use writes var/secret. Senders forked at once (send
    --workers N) must not trip over each other or read a half-written file."""
    import multiprocessing
    import stat

    (tmp_path / "b.toml").write_text('[newsletter]\nname = "T"\n')
    ctx = multiprocessing.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_secret_in_child, args=(str(tmp_path), start, out)) for _ in range(6)
    ]
    for p in procs:
        p.start()
    start.set()
    found = [out.get(timeout=10) for _ in procs]
    for p in procs:
        p.join(10)
    assert [p.exitcode for p in procs] == [0] * 6
    assert len({tuple(f) for f in found}) == 1 and len(found[0]) == 1
    secret_file = tmp_path / "var" / "secret"
    assert secret_file.read_text().split() == found[0]
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in secret_file.parent.iterdir()) == ["secret"]  # no leftovers
