"""Config values that reach email headers are checked when the config loads: the sender
and Reply-To must be addresses, and no header-bound value may carry control characters.
Tried through the CLI with a real config file and through BRIEFING_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefing.cli import main
from briefing.config import load_settings
from briefing.errors import ConfigError


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("sender", "not an address"),
        ("sender", "Briefing <briefing@>"),
        ("sender", "Briefing <a@example.org>, Other <b@example.org>"),
        ("reply_to", "not an address"),
        ("reply_to", "editors@example.org\\r\\nBcc: victim@evil.example"),
    ],
)
def test_a_bad_sender_or_reply_to_is_refused_naming_the_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, key: str, value: str
) -> None:
    config = tmp_path / "briefing.toml"
    config.write_text(f'[newsletter]\n{key} = "{value}"\n', encoding="utf-8")
    code, out, err = run(capsys, "--config", str(config), "config")
    assert code == 1 and out == ""
    assert err.startswith("error: invalid configuration: ")
    assert f"newsletter.{key}" in err and str(config) in err and "hint:" in err


@pytest.mark.parametrize("key", ["SENDER", "REPLY_TO"])
def test_a_bad_sender_from_the_environment_is_refused_naming_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, key: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(f"BRIEFING_NEWSLETTER_{key}", "not an address")
    code, _, err = run(capsys, "config")
    assert code == 1
    assert f"newsletter.{key.lower()}" in err
    assert f"environment variable BRIEFING_NEWSLETTER_{key}" in err


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("newsletter", "name", "Briefing\r\nBcc: victim@evil.example"),
        ("newsletter", "name", "Brief\x85ing"),
        ("newsletter", "sender", "Brief\u2028ing <briefing@example.org>"),
        ("newsletter", "base_url", "https://news.example.org/\r\nX-Evil: 1"),
        ("newsletter", "base_url", "https://news.example.org/a b"),
        ("issue", "subject", "{top_story}\nBcc: victim@evil.example"),
        ("issue", "preheader", "A\x00preheader"),
    ],
)
def test_header_bound_values_with_control_characters_are_refused(
    section: str, key: str, value: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, env={}, overrides={section: {key: value}})
    assert f"{section}.{key}" in caught.value.message


def test_a_feed_name_with_control_characters_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "briefing.toml"
    config.write_text(
        '[[feeds]]\nurl = "https://example.org/feed.xml"\nname = "Feed\\r\\nBcc: x@evil.example"\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env={})
    assert "feeds[0].name" in caught.value.message


def test_header_bound_values_are_capped(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"newsletter\.name"):
        load_settings(None, env={}, overrides={"newsletter": {"name": "n" * 201}})
    with pytest.raises(ConfigError, match=r"issue\.subject"):
        load_settings(None, env={}, overrides={"issue": {"subject": "s" * 251}})


@pytest.mark.parametrize(
    "sender",
    [
        "Briefing <briefing@example.org>",
        "briefing@example.org",
        '"Briefing, Weekly" <briefing@example.org>',
        "Die Zeitung <info@bücher.example>",
        "Zoë <zoë@example.org>",
    ],
)
def test_good_senders_load(sender: str) -> None:
    settings = load_settings(
        None, env={}, overrides={"newsletter": {"sender": sender, "reply_to": sender}}
    )
    assert settings.newsletter.sender == sender
