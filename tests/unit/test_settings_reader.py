"""backends/settings.py: a workspace table read against the settings its adapter declares."""

from __future__ import annotations

from pathlib import Path

import pytest
from standardiste.backends.base import Invalid
from standardiste.backends.settings import (
    REQUIRED,
    Setting,
    read_settings,
    secret_name,
    unknown_settings,
    workspace_of_secret,
)
from standardiste.console.core import secrets

DECLARED = (
    Setting("host", str, REQUIRED, help="the server"),
    Setting("port", int, None, positive=True),
    Setting("timeout", float, 30.0, positive=True),
    Setting("tls", bool, True),
    Setting("mode", str, "tls", choices=("tls", "plain")),
    Setting("ca_file", Path, None),
    Setting("aliases", tuple, ()),
    Setting("password", secret=True),
    Setting("webhook_key", secret=True),
)


def read(**table: object) -> dict[str, object]:
    return read_settings(DECLARED, "mail", {"backend": "x", "host": "h", **table})


def test_values_are_converted_and_defaults_filled_in() -> None:
    assert read() == {
        "host": "h",
        "port": None,
        "timeout": 30.0,
        "tls": True,
        "mode": "tls",
        "ca_file": None,
        "aliases": (),
    }
    values = read(host=" h2 ", port=993, timeout=5, mode="PLAIN", ca_file="~/ca.pem", aliases=["a@x", " "])
    assert values["host"] == "h2" and values["port"] == 993 and values["timeout"] == 5.0
    assert values["mode"] == "plain" and values["ca_file"] == Path("~/ca.pem").expanduser()
    assert values["aliases"] == ("a@x",)
    assert read(port=993.0)["port"] == 993  # TOML's 993.0 is still a whole number


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"port": "abc"}, "[workspaces.mail] port: expected a whole number, got 'abc'"),
        ({"port": 99.5}, "[workspaces.mail] port: expected a whole number, got 99.5"),
        ({"port": True}, "[workspaces.mail] port: expected a whole number, got True"),
        ({"port": 0}, "[workspaces.mail] port: expected a positive number, got 0"),
        ({"timeout": "ten"}, "[workspaces.mail] timeout: expected a number, got 'ten'"),
        ({"tls": "false"}, "[workspaces.mail] tls: expected true or false, got 'false'"),
        ({"mode": "ssl3"}, "[workspaces.mail] mode: expected one of tls, plain, got 'ssl3'"),
        ({"host": 5}, "[workspaces.mail] host: expected text, got 5"),
        ({"host": ""}, "[workspaces.mail] host: required, and empty here (the server)"),
        ({"ca_file": 1}, "[workspaces.mail] ca_file: expected a file path, got 1"),
        (
            {"aliases": "a@x"},
            '[workspaces.mail] aliases: expected a list of text (like ["a", "b"]), got \'a@x\'',
        ),
    ],
)
def test_a_bad_value_is_one_message_naming_the_table_and_the_key(
    table: dict[str, object], message: str
) -> None:
    with pytest.raises(Invalid) as caught:
        read(**table)
    assert str(caught.value) == message


def test_a_required_key_that_is_missing_says_what_it_is() -> None:
    with pytest.raises(Invalid, match=r"^\[workspaces.mail\] host: required \(the server\)$"):
        read_settings(DECLARED, "mail", {})


def test_a_value_with_control_characters_is_shown_escaped() -> None:
    with pytest.raises(Invalid) as caught:
        read(port="\x1b[2J" + "9" * 80)
    text = str(caught.value)
    assert "\x1b" not in text and "\\x1b[2J" in text and text.endswith("...")


def test_a_secret_in_the_file_is_refused_and_not_repeated() -> None:
    with pytest.raises(Invalid) as caught:
        read(password="hunter2")
    assert "standardiste login mail" in str(caught.value) and "hunter2" not in str(caught.value)


def test_unknown_keys_are_warnings_with_the_closest_name() -> None:
    table = {"backend": "x", "host": "h", "prot": 1, "colour": "red"}
    assert unknown_settings(DECLARED, "mail", table) == [
        "unknown key 'workspaces.mail.prot' (did you mean 'port'?)",
        "unknown key 'workspaces.mail.colour'",
    ]
    # An adapter declaring nothing reads its table itself: nothing to say about it.
    assert unknown_settings((), "mail", table) == []


def test_secret_names() -> None:
    assert secret_name("mail", DECLARED, "password") == "mail"
    assert secret_name("mail", DECLARED, "webhook_key") == "mail/webhook_key"
    assert workspace_of_secret("shop.eu/webhook_key") == "shop.eu"
    assert secrets.env_name("mail/webhook_key") == "STANDARDISTE_SECRET_MAIL_WEBHOOK_KEY"
    with pytest.raises(KeyError):
        secret_name("mail", DECLARED, "host")
    with pytest.raises(TypeError):
        Setting("when", list)
