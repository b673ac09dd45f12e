"""Raw Telegram updates through kurigram's real Dispatcher reach the inbox as the engine expects.

The client is never started: updates are put on its dispatcher queue as the network layer would.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pyrogram import raw, types

from absensi.drivers.telegram.inbound import MAX_ANSWER, InboundHandlers

from .builders import BOT_ID
from .fakes import T0, RecordingClient, RecordingInbox, SimClock

USER_ID = 700001
CHANNEL_ID = 1234567890  # the supergroup -1001234567890 as raw updates name it
GROUP_ID = -1001234567890
DATE = 1764462665  # 2026-11-30 00:31:05 UTC


def raw_user(user_id: int = USER_ID, name: str = "Budi_Santoso") -> raw.types.User:
    return raw.types.User(id=user_id, first_name=name, access_hash=1, restriction_reason=[], usernames=[])


def raw_group() -> raw.types.Channel:
    return raw.types.Channel(id=CHANNEL_ID, title="Pejabat SMK", photo=raw.types.ChatPhotoEmpty(), date=DATE,
                             access_hash=5, megagroup=True, restriction_reason=[], usernames=[])


def private_update(text: str, msg_id: int = 5, **extra: Any) -> tuple[Any, dict, dict]:
    fields: dict[str, Any] = {"entities": [], "restriction_reason": [], **extra}
    message = raw.types.Message(id=msg_id, peer_id=raw.types.PeerUser(user_id=USER_ID), date=DATE, message=text,
                                from_id=raw.types.PeerUser(user_id=USER_ID), **fields)
    return raw.types.UpdateNewMessage(message=message, pts=1, pts_count=1), {USER_ID: raw_user()}, {}


def group_update(text: str, msg_id: int, sender: int, reply_to: int | None) -> tuple[Any, dict, dict]:
    header = raw.types.MessageReplyHeader(reply_to_msg_id=reply_to) if reply_to else None
    message = raw.types.Message(id=msg_id, peer_id=raw.types.PeerChannel(channel_id=CHANNEL_ID), date=DATE,
                                message=text, from_id=raw.types.PeerUser(user_id=sender), entities=[],
                                restriction_reason=[], reply_to=header)
    update = raw.types.UpdateNewChannelMessage(message=message, pts=1, pts_count=1)
    return update, {sender: raw_user(sender, "Pak Kepala")}, {CHANNEL_ID: raw_group()}


async def run_updates(updates: list[tuple[Any, dict, dict]], inbox: RecordingInbox | None = None,
                      prepare: Any = None, handlers: InboundHandlers | None = None,
                      ) -> tuple[RecordingInbox, RecordingClient]:
    inbox = inbox or RecordingInbox()
    client = RecordingClient()
    (handlers or InboundHandlers(inbox, SimClock())).register(client)
    await client.dispatcher.start()
    if prepare:
        await prepare(client)
    try:
        for update in updates:
            await client.dispatcher.updates_queue.put(update)
        for _ in range(200):  # let the workers drain the queue
            await asyncio.sleep(0.005)
            if client.dispatcher.updates_queue.empty() and (len(inbox.messages) >= len(updates) or _ > 40):
                break
    finally:
        await client.dispatcher.stop()
    return inbox, client


async def test_private_command_arrives_with_user_source_id_and_utc_time():
    inbox, _ = await run_updates([private_update("/absen", entities=[raw.types.MessageEntityBotCommand(offset=0, length=6)])])
    (msg,) = inbox.messages
    assert (msg.sender, msg.chat, msg.text, msg.source_id) == ("700001", None, "/absen", "tg:700001:5")
    assert msg.received_at.timestamp() == DATE and msg.received_at.utcoffset().total_seconds() == 0


async def test_shared_contact_arrives_as_contact():
    media = raw.types.MessageMediaContact(phone_number="6281234500001", first_name="Budi", last_name="",
                                          vcard="", user_id=USER_ID)
    inbox, _ = await run_updates([private_update("", media=media)])
    (msg,) = inbox.messages
    assert msg.contact is not None and (msg.contact.phone, msg.contact.user_id) == ("+6281234500001", USER_ID)


async def test_button_press_is_stored_then_the_spinner_is_stopped():
    press = raw.types.UpdateBotCallbackQuery(query_id=4242, user_id=USER_ID, peer=raw.types.PeerUser(user_id=USER_ID),
                                             msg_id=3, chat_instance=1, data=b"abs:9:ok")

    async def cache_keyboard_message(client: RecordingClient) -> None:
        await client.message_cache.set((USER_ID, 3), types.Message(id=3, chat=types.Chat(id=USER_ID)))

    inbox, client = await run_updates([(press, {USER_ID: raw_user()}, {})], prepare=cache_keyboard_message)
    (msg,) = inbox.messages
    assert (msg.press, msg.source_id, msg.received_at) == ("abs:9:ok", "tgcb:4242", T0)
    assert client.answered == [("4242", None)]


async def test_a_press_the_inbox_cannot_store_is_answered_with_the_apology_the_rules_give_now():
    """The text is the rules' `tg_press_not_stored`, handed to the driver as a callable: a reload changes it."""
    def press(query_id: int) -> tuple[Any, dict, dict]:
        return (raw.types.UpdateBotCallbackQuery(query_id=query_id, user_id=USER_ID, msg_id=3, chat_instance=1,
                                                 peer=raw.types.PeerUser(user_id=USER_ID), data=b"abs:9:ok"),
                {USER_ID: raw_user()}, {})

    async def cache(client: RecordingClient) -> None:
        await client.message_cache.set((USER_ID, 3), types.Message(id=3, chat=types.Chat(id=USER_ID)))

    texts = {"press_not_stored": "Maaf, belum tercatat."}
    inbox = RecordingInbox(fail=True)
    handlers = InboundHandlers(inbox, SimClock(), texts=lambda: texts)
    _, client = await run_updates([press(7)], inbox=inbox, prepare=cache, handlers=handlers)
    texts = {"press_not_stored": "Tombol belum tercatat " + "x" * 300}  # a reload rewords it (too long for Telegram)
    _, again = await run_updates([press(8)], inbox=inbox, prepare=cache, handlers=handlers)
    _, silent = await run_updates([press(9)], inbox=inbox, prepare=cache,
                                  handlers=InboundHandlers(inbox, SimClock()))  # started without texts
    assert client.answered == [("7", "Maaf, belum tercatat.")]
    assert again.answered == [("8", texts["press_not_stored"][:MAX_ANSWER])] and MAX_ANSWER == 200
    assert silent.answered == [("9", None)]  # the spinner stops, nothing is said


async def test_in_the_group_only_replies_to_the_bot_get_through():
    async def bot_said_info(client: RecordingClient) -> None:
        bot_msg = types.Message(id=77, chat=types.Chat(id=GROUP_ID),
                                from_user=types.User(id=BOT_ID, is_bot=True, first_name="Absensi"))
        human_msg = types.Message(id=78, chat=types.Chat(id=GROUP_ID),
                                  from_user=types.User(id=700010, first_name="Bu Wakasek"))
        await client.message_cache.set((GROUP_ID, 77), bot_msg)
        await client.message_cache.set((GROUP_ID, 78), human_msg)

    updates = [
        group_update("Rapat jam 10 ya", 90, 700009, None),
        group_update("Setuju", 91, 700009, 78),
        group_update("Terima kasih, kami cek", 92, 700009, 77),
    ]
    inbox, _ = await run_updates(updates, prepare=bot_said_info)
    assert [(m.text, m.sender, m.chat, m.reply_to, m.source_id) for m in inbox.messages] == [
        ("Terima kasih, kami cek", "700009", str(GROUP_ID), "77", f"tg:{GROUP_ID}:92"),
    ]


async def test_the_id_of_a_group_the_bot_is_in_is_noted_once_for_the_operator():
    inbox = RecordingInbox()
    handlers = InboundHandlers(inbox, SimClock())
    updates = [group_update("/start@AbsensiSekolahBot", 95, 700009, None), group_update("halo", 96, 700009, None)]
    await run_updates(updates, inbox=inbox, handlers=handlers)
    assert inbox.messages == [] and handlers.groups_seen == {GROUP_ID}


# ------------------------------------------------------------------------------ forum groups (Topics on)

TOPIC = 12  # the id of the message that opened the topic, which is also the topic's id


def raw_forum() -> raw.types.Channel:
    return raw.types.Channel(id=CHANNEL_ID, title="Pejabat SMK", photo=raw.types.ChatPhotoEmpty(), date=DATE,
                             access_hash=5, megagroup=True, forum=True, restriction_reason=[], usernames=[])


def forum_message(text: str, msg_id: int, sender: int, reply_to: int,
                  top: int | None = None) -> raw.types.Message:
    """A message in topic TOPIC: Telegram marks it `forum_topic`; a reply inside the topic names both the
    replied message and the topic (`reply_to_top_id`), a plain post only points at the topic."""
    header = raw.types.MessageReplyHeader(forum_topic=True, reply_to_msg_id=reply_to, reply_to_top_id=top)
    return raw.types.Message(id=msg_id, peer_id=raw.types.PeerChannel(channel_id=CHANNEL_ID), date=DATE,
                             message=text, from_id=raw.types.PeerUser(user_id=sender), entities=[],
                             restriction_reason=[], reply_to=header)


def forum_people() -> tuple[dict, dict]:
    users = {700009: raw_user(700009, "Pak Kepala"), 700010: raw_user(700010, "Bu Wakasek"),
             BOT_ID: raw.types.User(id=BOT_ID, first_name="Absensi", bot=True, access_hash=2,
                                    restriction_reason=[], usernames=[])}
    return users, {CHANNEL_ID: raw_forum()}


async def cache_forum_history(client: RecordingClient) -> None:
    """What kurigram would have cached: the topic's opener, the bot's message, a colleague's, a keyboard."""
    users, chats = forum_people()
    history = [forum_message("Absensi", TOPIC, 700010, TOPIC), forum_message("INFO …", 77, BOT_ID, TOPIC),
               forum_message("Siap", 78, 700010, TOPIC), forum_message("Pilih:", 80, BOT_ID, TOPIC)]
    for item in history:
        parsed = await types.Message._parse(client, item, users, chats, replies=0)
        await client.message_cache.set((GROUP_ID, item.id), parsed)


async def test_in_a_forum_replies_to_the_bot_get_through_and_topic_chatter_does_not():
    users, chats = forum_people()
    updates = [(raw.types.UpdateNewChannelMessage(message=message, pts=1, pts_count=1), users, chats)
               for message in (forum_message("Rapat jam 10 ya", 90, 700009, TOPIC),
                               forum_message("Setuju", 91, 700009, 78, top=TOPIC),
                               forum_message("Terima kasih, kami cek", 92, 700009, 77, top=TOPIC))]
    inbox, _ = await run_updates(updates, prepare=cache_forum_history)
    assert [(m.text, m.sender, m.chat, m.reply_to, m.source_id) for m in inbox.messages] == [
        ("Terima kasih, kami cek", "700009", str(GROUP_ID), "77", f"tg:{GROUP_ID}:92"),
    ]


async def test_a_press_in_a_forum_is_a_group_press():
    users, chats = forum_people()
    press = raw.types.UpdateBotCallbackQuery(query_id=4343, user_id=700009, peer=raw.types.PeerChannel(
        channel_id=CHANNEL_ID), msg_id=80, chat_instance=1, data=b"abs:9:ok")
    inbox, client = await run_updates([(press, users, chats)], prepare=cache_forum_history)
    (msg,) = inbox.messages
    assert (msg.sender, msg.chat, msg.press, msg.reply_to) == ("700009", str(GROUP_ID), "abs:9:ok", "80")
    assert client.answered == [("4343", None)]
