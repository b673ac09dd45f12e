"""Each linked user gets the command menu of their roles; Telegram is called only for changes."""

from __future__ import annotations

from pyrogram import errors, types

from absensi.drivers.telegram.menus import MenuSync

from .fakes import FakeTelegram, SimClock

OFFICER = [("absen", "Lapor absensi kelas"), ("hariini", "Absensi hari ini")]
TEACHER = [("hariini", "Absensi hari ini"), ("rekap", "Rekap bulanan"), ("semester", "Rekap semester")]


async def test_each_chat_gets_its_own_scoped_menu_and_the_default_scope_key_zero():
    clock = SimClock()
    api = FakeTelegram()
    sync = MenuSync(api, clock.sleep)
    calls = await sync.apply({0: [("start", "Mulai")], 700001: OFFICER, 700003: TEACHER})
    assert calls == 3
    by_chat = {c.chat_id: c.kwargs for c in api.calls}
    assert isinstance(by_chat[0]["scope"], types.BotCommandScopeDefault)
    assert isinstance(by_chat[700001]["scope"], types.BotCommandScopeChat)
    assert by_chat[700001]["scope"].chat_id == 700001
    assert [(c.command, c.description) for c in by_chat[700003]["commands"]] == TEACHER


async def test_unchanged_menus_are_not_sent_again_and_lost_roles_reset_the_menu():
    clock = SimClock()
    api = FakeTelegram()
    sync = MenuSync(api, clock.sleep)
    await sync.apply({700001: OFFICER, 700003: TEACHER})
    api.calls.clear()
    calls = await sync.apply({700003: TEACHER})
    assert calls == 1
    assert [(c.method, c.chat_id) for c in api.calls] == [("delete_bot_commands", 700001)]


async def test_a_chat_telegram_refuses_is_tried_again_next_time():
    clock = SimClock()
    api = FakeTelegram(fail_with=[errors.PeerIdInvalid()])
    sync = MenuSync(api, clock.sleep)
    assert await sync.apply({700001: OFFICER}) == 0
    assert await sync.apply({700001: OFFICER}) == 1
