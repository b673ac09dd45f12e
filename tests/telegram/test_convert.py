"""pyrogram messages become InboundMessages; only what the engine should see gets through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from pyrogram import enums, types

from absensi.drivers.telegram.convert import callback_to_inbound, message_to_inbound, normalize_phone
from absensi.engine.messages import Channel, Contact

from .builders import BOT_ID, GROUP_ID, bot_message, forum_chat, group_chat, in_topic, message, user


def test_private_text_becomes_an_inbound_message_from_the_user():
    msg = message_to_inbound(message("A 3 7 12", message_id=41), BOT_ID)
    assert msg is not None
    assert (msg.channel, msg.sender, msg.chat, msg.text) == (Channel.TELEGRAM, "700001", None, "A 3 7 12")
    assert msg.source_id == "tg:700001:41"
    assert msg.reply_to is None and msg.press is None and msg.contact is None


def test_received_at_is_timezone_aware_utc_of_the_message_date():
    local = datetime(2026, 11, 30, 7, 31, 5, tzinfo=timezone(timedelta(hours=7)))
    msg = message_to_inbound(message(date=local), BOT_ID)
    assert msg is not None
    assert msg.received_at == datetime(2026, 11, 30, 0, 31, 5, tzinfo=UTC)
    assert msg.received_at.utcoffset() == timedelta(0)


def test_naive_pyrogram_dates_are_read_as_local_time():
    naive = datetime.fromtimestamp(1764462665)  # what pyrogram builds from a unix timestamp
    msg = message_to_inbound(message(date=naive), BOT_ID)
    assert msg is not None and msg.received_at.timestamp() == 1764462665


def test_command_keeps_its_arguments_and_loses_the_bot_mention():
    msg = message_to_inbound(message("/rekap@AbsensiSekolahBot 2026-11"), BOT_ID)
    assert msg is not None and msg.text == "/rekap 2026-11"


def test_plain_command_is_passed_unchanged():
    msg = message_to_inbound(message("/absen"), BOT_ID)
    assert msg is not None and msg.text == "/absen"


def test_private_reply_carries_the_replied_message_id():
    msg = message_to_inbound(message("Baik, terima kasih", reply_to_message_id=88), BOT_ID)
    assert msg is not None and msg.reply_to == "88"


def test_own_contact_is_forwarded_with_the_users_id_and_plus_prefixed_number():
    card = types.Contact(phone_number="6281234500001", first_name="Budi", user_id=700001)
    msg = message_to_inbound(message(None, contact=card), BOT_ID)
    assert msg is not None
    assert msg.contact == Contact(phone="+6281234500001", user_id=700001)
    assert msg.sender == "700001"


def test_someone_elses_contact_is_forwarded_with_that_persons_id_for_the_engine_to_refuse():
    card = types.Contact(phone_number="6281299990000", first_name="Kepala", user_id=555555)
    msg = message_to_inbound(message(None, contact=card), BOT_ID)
    assert msg is not None
    assert msg.sender == "700001" and msg.contact == Contact("+6281299990000", 555555)


def test_contact_card_without_telegram_account_has_no_user_id():
    card = types.Contact(phone_number="0812-3450 0001", first_name="Ortu")
    msg = message_to_inbound(message(None, contact=card), BOT_ID)
    assert msg is not None and msg.contact == Contact("081234500001", None)


def test_phone_normalisation_only_undoes_telegrams_format():
    assert normalize_phone("6281234500001") == "+6281234500001"
    assert normalize_phone("+62 812-3450-0001") == "+6281234500001"
    assert normalize_phone("081234500001") == "081234500001"


def test_group_reply_to_the_bots_message_is_forwarded_with_chat_and_reply_to():
    chat = group_chat()
    reply = message("Terima kasih, kami cek", chat=chat, sender=user(700009, "Pak Kepala"),
                    reply_to_message_id=77, reply_to_message=bot_message(77, chat), message_id=90)
    msg = message_to_inbound(reply, BOT_ID)
    assert msg is not None
    assert (msg.sender, msg.chat, msg.reply_to) == ("700009", str(GROUP_ID), "77")
    assert msg.source_id == f"tg:{GROUP_ID}:90"


def test_group_chatter_is_ignored():
    assert message_to_inbound(message("Rapat jam 10", chat=group_chat()), BOT_ID) is None


def test_group_reply_to_a_human_is_ignored():
    chat = group_chat()
    other = types.Message(id=60, from_user=user(700010, "Bu Wakasek"), chat=chat, text="Siap")
    reply = message("Oke", chat=chat, reply_to_message_id=60, reply_to_message=other)
    assert message_to_inbound(reply, BOT_ID) is None


def test_group_reply_whose_original_could_not_be_loaded_is_ignored():
    reply = message("Oke", chat=group_chat(), reply_to_message_id=60)
    assert message_to_inbound(reply, BOT_ID) is None


def test_group_commands_are_ignored():
    assert message_to_inbound(message("/hariini", chat=group_chat()), BOT_ID) is None


def test_messages_from_other_bots_channels_and_stickers_are_ignored():
    assert message_to_inbound(message("spam", sender=user(123, "Bot", is_bot=True)), BOT_ID) is None
    anon = types.Message(id=5, chat=group_chat(), sender_chat=group_chat(), text="halo")
    assert message_to_inbound(anon, BOT_ID) is None
    channel = types.Chat(id=-100777, type=enums.ChatType.CHANNEL)
    assert message_to_inbound(message("x", chat=channel), BOT_ID) is None
    assert message_to_inbound(message(None), BOT_ID) is None


def test_caption_is_read_as_text():
    msg = message_to_inbound(message(None, caption="S 5 demam"), BOT_ID)
    assert msg is not None and msg.text == "S 5 demam"


def test_button_press_becomes_press_with_callback_source_id():
    now = datetime(2026, 11, 30, 0, 40, tzinfo=UTC)
    query = types.CallbackQuery(id="7712", from_user=user(), data="abs:3:pick:12",
                                message=types.Message(id=50, chat=types.Chat(id=700001, type=enums.ChatType.PRIVATE)))
    msg = callback_to_inbound(query, now)
    assert msg is not None
    assert (msg.sender, msg.chat, msg.press, msg.text) == ("700001", None, "abs:3:pick:12", "")
    assert msg.source_id == "tgcb:7712" and msg.received_at == now
    assert msg.reply_to == "50"  # the message whose keyboard was pressed, so the engine can update it


def test_bytes_callback_data_is_decoded():
    query = types.CallbackQuery(id="1", from_user=user(), data=b"kirim")
    msg = callback_to_inbound(query, datetime(2026, 11, 30, tzinfo=UTC))
    assert msg is not None and msg.press == "kirim"


# ------------------------------------------------------------------------------ forum groups (Topics on)


def test_forum_reply_to_the_bot_inside_a_topic_is_forwarded_like_a_group_reply():
    chat = forum_chat()
    reply = message("Baik, kami hubungi orang tuanya", chat=chat, sender=user(700009, "Pak Kepala"),
                    message_id=91, **in_topic(12, replied=bot_message(77, chat)))
    msg = message_to_inbound(reply, BOT_ID)
    assert msg is not None
    assert (msg.sender, msg.chat, msg.reply_to) == ("700009", str(GROUP_ID), "77")
    assert msg.source_id == f"tg:{GROUP_ID}:91"


def test_forum_reply_to_the_bot_in_the_general_topic_is_forwarded():
    chat = forum_chat()
    reply = message("Siap", chat=chat, reply_to_message_id=77, reply_to_message=bot_message(77, chat))
    msg = message_to_inbound(reply, BOT_ID)
    assert msg is not None and (msg.chat, msg.reply_to) == (str(GROUP_ID), "77")


def test_forum_chatter_in_a_topic_is_ignored():
    chat = forum_chat()
    opener = types.Message(id=12, from_user=user(700010, "Bu Wakasek"), chat=chat)
    chatter = message("Rapat jam 10", chat=chat, **in_topic(12), reply_to_message=opener)
    assert message_to_inbound(chatter, BOT_ID) is None
    assert message_to_inbound(message("Rapat jam 10", chat=chat), BOT_ID) is None


def test_posting_in_a_topic_the_bot_opened_is_not_a_reply_to_the_bot():
    """A topic's messages point at its first message; if the bot opened the topic that is the bot's, but
    nobody answered the bot."""
    chat = forum_chat()
    chatter = message("Rapat jam 10", chat=chat, **in_topic(12), reply_to_message=bot_message(12, chat))
    assert message_to_inbound(chatter, BOT_ID) is None


def test_forum_reply_to_a_human_is_ignored():
    chat = forum_chat()
    other = types.Message(id=60, from_user=user(700010, "Bu Wakasek"), chat=chat, text="Siap")
    assert message_to_inbound(message("Oke", chat=chat, **in_topic(12, replied=other)), BOT_ID) is None


def test_forum_button_press_belongs_to_the_group_not_the_pressers_private_chat():
    now = datetime(2026, 11, 30, 0, 40, tzinfo=UTC)
    keyboard = types.Message(id=80, chat=forum_chat(), message_thread_id=12, topic_message=True)
    query = types.CallbackQuery(id="7713", from_user=user(700009, "Pak Kepala"), data="abs:3:ok",
                                message=keyboard)
    msg = callback_to_inbound(query, now)
    assert msg is not None
    assert (msg.sender, msg.chat, msg.press, msg.reply_to) == ("700009", str(GROUP_ID), "abs:3:ok", "80")


def test_a_private_message_pointing_at_its_own_thread_is_no_reply():
    """Private chats with a bot can have topics too: sitting in one is not answering anything."""
    msg = message_to_inbound(message("A 3 7", **in_topic(5)), BOT_ID)
    assert msg is not None and msg.reply_to is None
