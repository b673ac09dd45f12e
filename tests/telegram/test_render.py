"""Outbox items become the right pyrogram keyboards and text parts."""

from __future__ import annotations

import pytest
from pyrogram import types

from absensi.drivers.telegram.render import (
    CONTACT_BUTTON_FALLBACK,
    RenderError,
    driver_text,
    inline_keyboard,
    reply_markup,
    split_text,
)
from absensi.engine.messages import Button, Channel
from absensi.engine.ports import OutboxItem


def item(**extra: object) -> OutboxItem:
    return OutboxItem(id=1, channel=Channel.TELEGRAM, to="700001", text="halo", **extra)  # type: ignore[arg-type]


def test_buttons_become_an_inline_keyboard_row_by_row():
    rows = ((Button("3 Budi", "abs:1:p:3"), Button("7 Siti_Aminah", "abs:1:p:7")), (Button("Kirim", "abs:1:ok"),))
    markup = reply_markup(item(buttons=rows))
    assert isinstance(markup, types.InlineKeyboardMarkup)
    assert [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard] == [
        [("3 Budi", "abs:1:p:3"), ("7 Siti_Aminah", "abs:1:p:7")],
        [("Kirim", "abs:1:ok")],
    ]


def contact_button(markup: object) -> types.KeyboardButton:
    assert isinstance(markup, types.ReplyKeyboardMarkup)
    (row,) = markup.keyboard
    (button,) = row
    assert button.request_contact is True
    return button


def test_request_contact_is_a_one_button_reply_keyboard_labelled_as_the_item_says():
    button = contact_button(reply_markup(item(request_contact="Bagikan nomor saya"), contact_label="Kirim nomor"))
    assert button.text == "Bagikan nomor saya"


def test_an_item_without_its_label_gets_the_drivers_own_label_or_at_least_a_sign():
    """An outbox row written before the engine put the label on it reads as ""."""
    assert contact_button(reply_markup(item(request_contact=""), contact_label="Kirim nomor")).text == "Kirim nomor"
    assert contact_button(reply_markup(item(request_contact=""))).text == CONTACT_BUTTON_FALLBACK
    assert reply_markup(item(request_contact=None), contact_label="Kirim nomor") is None


def test_a_driver_text_the_application_cannot_give_is_empty_rather_than_an_error():
    def broken() -> dict[str, str]:
        raise KeyError("tg_press_not_stored")

    assert driver_text(lambda: {"contact_button": "Kirim nomor"}, "contact_button") == "Kirim nomor"
    assert driver_text(lambda: {}, "contact_button") == ""
    assert driver_text(broken, "contact_button") == ""


def test_remove_keyboard_removes_the_reply_keyboard():
    assert isinstance(reply_markup(item(remove_keyboard=True)), types.ReplyKeyboardRemove)


def test_plain_item_has_no_markup():
    assert reply_markup(item()) is None


def test_callback_data_over_64_bytes_is_refused_with_the_label_and_size():
    with pytest.raises(RenderError, match=r"'Kirim'.*65 bytes.*1 to 64"):
        inline_keyboard(((Button("Kirim", "x" * 65),),))


def test_callback_data_limit_counts_utf8_bytes_not_characters():
    inline_keyboard(((Button("ok", "é" * 32),),))  # 64 bytes: accepted
    with pytest.raises(RenderError, match="66 bytes"):
        inline_keyboard(((Button("ok", "é" * 33),),))


def test_empty_callback_data_is_refused():
    with pytest.raises(RenderError, match="0 bytes"):
        inline_keyboard(((Button("ok", ""),),))


def test_long_text_is_split_at_line_ends_within_the_limit():
    lines = [f"{n}. Siswa nomor {n}" for n in range(1, 400)]
    parts = split_text("\n".join(lines), limit=1000)
    assert all(len(p) <= 1000 for p in parts) and len(parts) > 1
    assert "\n".join(parts).splitlines() == lines


def test_a_line_longer_than_the_limit_is_cut_hard():
    assert split_text("x" * 2500, limit=1000) == ["x" * 1000, "x" * 1000, "x" * 500]


def test_short_text_is_one_part():
    assert split_text("halo") == ["halo"]
