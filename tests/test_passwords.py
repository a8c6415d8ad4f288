"""Editor passwords: blank, whitespace-only and easily guessed ones (zxcvbn: common-password
lists, keyboard walks, repeats, the account's own address) are refused at `editors add`."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from briefing.cli import main
from briefing.errors import BriefingError
from briefing.services.accounts import check_password

REPO = Path(__file__).parent.parent


def add_editor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], password: str
) -> tuple[int, str]:
    old = sys.stdin
    sys.stdin = io.StringIO(password + "\n")
    try:
        with pytest.raises(SystemExit) as done:
            main(
                [
                    "--config", str(REPO / "briefing.toml"),
                    "--db", f"sqlite:///{tmp_path}/x.db",
                    "editors", "add", "ed@example.org", "--password-stdin",
                ]
            )  # fmt: skip
    finally:
        sys.stdin = old
    return int(done.value.code or 0), " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize(
    "password",
    [
        "",
        " " * 16,
        "\t \u00a0" * 6,
        "password1234",
        "qwertyuiopasdfgh",
        "123456789012",
        "iloveyou1234",
    ],
    ids=["empty", "spaces", "whitespace", "password1234", "keyboard", "digits", "common"],
)
def test_blank_and_common_editor_passwords_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], password: str
) -> None:
    code, err = add_editor(tmp_path, capsys, password)
    assert code == 1, (password, err)
    assert "error:" in err and "password" in err and "hint:" in err, err
    code, err = add_editor(tmp_path, capsys, "plinth orbit marzipan lagoon")
    assert code == 0, err  # nothing half-written by the refusal


def test_the_accounts_own_address_is_no_password() -> None:
    with pytest.raises(BriefingError, match="too easy to guess"):
        check_password("ed@example.org1234", about=("ed@example.org", "Ed Itor"))
    with pytest.raises(BriefingError, match="only whitespace"):
        check_password(" " * 20)
    check_password("plinth orbit marzipan lagoon", about=("ed@example.org",))
    # zxcvbn reads 72 characters; a longer passphrase is still checked, not refused
    check_password("plinth orbit marzipan lagoon " * 5)
