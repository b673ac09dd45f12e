"""Credentials come from the environment with reasons an operator can act on; the session file is private."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from absensi.drivers.telegram.credentials import (
    Credentials,
    TelegramCredentialsError,
    credentials_from_env,
    parse_credentials,
)
from absensi.drivers.telegram.session import PrivateSQLiteStorage, forget_session, session_path

TOKEN = "7712345678:AAH3kd9_Zx-0123456789abcdefghijklmno"
HASH = "0123456789abcdef0123456789ABCDEF"
GOOD = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_ID": "123456", "TELEGRAM_API_HASH": HASH}


def test_complete_environment_gives_credentials():
    creds, reason = credentials_from_env(GOOD)
    assert reason == "" and creds == Credentials(TOKEN, 123456, HASH.lower())
    assert creds.bot_id == "7712345678"


def test_missing_variables_are_named_in_the_reason():
    creds, reason = credentials_from_env({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert creds is None
    assert "TELEGRAM_API_ID" in reason and "TELEGRAM_API_HASH" in reason and "not set" in reason
    assert "TELEGRAM_BOT_TOKEN" not in reason


def test_nothing_set_means_telegram_is_off():
    creds, reason = credentials_from_env({})
    assert creds is None and reason.startswith("Telegram is off")


@pytest.mark.parametrize(
    ("name", "value"),
    [("TELEGRAM_BOT_TOKEN", "123:short"), ("TELEGRAM_API_ID", "abc"), ("TELEGRAM_API_HASH", "xyz")],
)
def test_malformed_values_are_named(name: str, value: str):
    creds, reason = credentials_from_env({**GOOD, name: value})
    assert creds is None and name in reason


def test_secrets_never_appear_in_repr():
    text = repr(parse_credentials(TOKEN, 123456, HASH))
    assert "AAH3kd9" not in text and HASH.lower() not in text and "7712345678" in text


def test_parse_refuses_a_bad_token_with_the_variable_name():
    with pytest.raises(TelegramCredentialsError, match="TELEGRAM_BOT_TOKEN"):
        parse_credentials("not-a-token", 1, HASH)


async def test_a_new_session_file_is_readable_by_its_owner_only(tmp_path: Path):
    storage = PrivateSQLiteStorage(tmp_path, "7712345678")
    await storage.open()
    await storage.auth_key(b"k" * 256)
    await storage.save()
    await storage.close()
    path = session_path(tmp_path, "7712345678")
    assert path.name == "telegram-7712345678.session"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_an_existing_session_file_that_is_too_open_is_tightened(tmp_path: Path):
    storage = PrivateSQLiteStorage(tmp_path, "42")
    await storage.open()
    await storage.close()
    path = session_path(tmp_path, "42")
    os.chmod(path, 0o644)
    again = PrivateSQLiteStorage(tmp_path, "42")
    await again.open()
    await again.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_forgetting_a_session_deletes_the_file(tmp_path: Path):
    path = session_path(tmp_path, "42")
    path.write_bytes(b"x")
    assert forget_session(tmp_path, "42") is True
    assert not path.exists() and forget_session(tmp_path, "42") is False
