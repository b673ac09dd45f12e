"""The deliverer sends outbox items within Telegram's limits and reports every outcome to the outbox."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest
from pyrogram import enums, errors

from absensi.drivers.telegram.credentials import TelegramCredentialsError
from absensi.drivers.telegram.deliver import Deliverer
from absensi.engine.messages import Button, Document
from absensi.engine.ports import Backoff, DeliveryPolicy

from .builders import GROUP_ID
from .fakes import T0, FakeTelegram, RecordingOutbox, SimClock, VirtualTimeLoop, loop_clock


def setup(*fail_with: object, policy: DeliveryPolicy | None = None) -> tuple[SimClock, RecordingOutbox, FakeTelegram, Deliverer]:
    clock = SimClock()
    outbox = RecordingOutbox()
    api = FakeTelegram(clock, fail_with=fail_with)
    return clock, outbox, api, Deliverer(outbox, api, clock=clock, sleep=clock.sleep, policy=policy, concurrency=1)


async def drain(deliverer: Deliverer, clock: SimClock, outbox: RecordingOutbox, limit: float = 3600) -> None:
    """Run the deliverer on the simulated clock until nothing is due within `limit` seconds."""
    end = clock.now + timedelta(seconds=limit)
    while clock.now < end:
        wait = await deliverer.step()
        if wait > 0:
            if not deliverer.held and not any(r.state == "pending" and r.due <= clock.now
                                              for r in outbox.rows.values()) and outbox.pending() == 0:
                return
            await clock.sleep(wait)


async def test_text_goes_out_unparsed_and_the_message_id_is_recorded():
    clock, outbox, api, deliverer = setup()
    item = outbox.add("700001", "Siti_Aminah *[X TKJ 1]* <b>")
    await drain(deliverer, clock, outbox)
    (call,) = api.sent()
    assert call.chat_id == 700001
    assert call.kwargs["text"] == "Siti_Aminah *[X TKJ 1]* <b>"
    assert call.kwargs["parse_mode"] is enums.ParseMode.DISABLED
    assert outbox.state(item) == "sent" and outbox.rows[item].native_id == "100"


async def test_reply_to_becomes_reply_parameters():
    clock, outbox, api, deliverer = setup()
    outbox.add(str(GROUP_ID), "Balasan terkirim", reply_to="77")
    await drain(deliverer, clock, outbox)
    assert api.sent()[0].kwargs["reply_parameters"].message_id == 77


async def test_a_reply_whose_original_is_gone_is_sent_plainly():
    clock, outbox, api, deliverer = setup(errors.ReplyMessageIdInvalid())
    item = outbox.add("700001", "halo", reply_to="77")
    await drain(deliverer, clock, outbox)
    assert api.sent()[0].kwargs["reply_parameters"] is None
    assert outbox.state(item) == "sent"


async def test_inline_buttons_and_contact_keyboard_are_attached():
    clock, outbox, api, deliverer = setup()
    outbox.add("700001", "Pilih siswa", buttons=((Button("3 Budi", "abs:1:p:3"),),))
    outbox.add("700002", "Bagikan kontak", request_contact="Bagikan nomor saya")
    outbox.add("700003", "Akun terhubung", remove_keyboard=True)
    await drain(deliverer, clock, outbox)
    markups = {c.chat_id: type(c.kwargs["reply_markup"]).__name__ for c in api.sent()}
    assert markups == {700001: "InlineKeyboardMarkup", 700002: "ReplyKeyboardMarkup", 700003: "ReplyKeyboardRemove"}


async def test_a_contact_keyboard_without_its_label_gets_the_drivers_text():
    """An outbox row written before the engine put the label on it: the driver's `contact_button`, read at send."""
    clock, outbox, api, _ = setup()
    texts = {"contact_button": "Kirim nomor"}
    deliverer = Deliverer(outbox, api, clock=clock, sleep=clock.sleep, concurrency=1, texts=lambda: texts)
    outbox.add("700001", "Bagikan kontak", request_contact="")
    outbox.add("700002", "Bagikan kontak", request_contact="Bagikan nomor saya")
    await drain(deliverer, clock, outbox)
    labels = {c.chat_id: c.kwargs["reply_markup"].keyboard[0][0].text for c in api.sent()}
    assert labels == {700001: "Kirim nomor", 700002: "Bagikan nomor saya"}


async def test_too_long_callback_data_fails_the_item_without_sending_anything():
    clock, outbox, api, deliverer = setup()
    item = outbox.add("700001", "Pilih", buttons=((Button("Kirim", "k" * 70),),))
    await drain(deliverer, clock, outbox)
    assert api.calls == []
    assert outbox.state(item) == "failed"
    assert "70 bytes" in outbox.rows[item].reasons[0]


async def test_document_is_sent_from_memory_with_its_file_name_and_caption():
    clock, outbox, api, deliverer = setup()
    item = outbox.add("700003", "Rekap November", document=Document("rekap-X-TKJ-1-2026-11.xlsx", b"PK\x03\x04data"))
    await drain(deliverer, clock, outbox)
    (call,) = api.sent("send_document")
    assert call.kwargs["document"].name == "rekap-X-TKJ-1-2026-11.xlsx"
    assert call.kwargs["file_name"] == "rekap-X-TKJ-1-2026-11.xlsx"
    assert call.kwargs["content"] == b"PK\x03\x04data"
    assert call.kwargs["caption"] == "Rekap November"
    assert api.sent() == [] and outbox.state(item) == "sent"


async def test_document_with_a_long_text_sends_the_text_first():
    clock, outbox, api, deliverer = setup()
    item = outbox.add("700003", "baris\n" * 300, document=Document("r.xlsx", b"x"))
    await drain(deliverer, clock, outbox)
    assert [c.method for c in api.calls] == ["send_message", "send_document"]
    assert api.sent("send_document")[0].kwargs["caption"] == ""
    assert outbox.rows[item].native_id == "100,101"


async def test_text_over_4096_characters_goes_as_several_messages_with_buttons_on_the_last():
    clock, outbox, api, deliverer = setup()
    text = "\n".join(f"{n}. Nama Siswa Yang Panjang Sekali {n}" for n in range(300))
    outbox.add("700001", text, buttons=((Button("Kirim", "ok"),),))
    await drain(deliverer, clock, outbox)
    calls = api.sent()
    assert len(calls) == 3 and all(len(c.kwargs["text"]) <= 4096 for c in calls)
    assert [c.kwargs["reply_markup"] is not None for c in calls] == [False, False, True]
    assert (calls[1].at - calls[0].at).total_seconds() >= 1.0  # parts are paced too


async def test_flood_wait_retries_after_exactly_the_named_seconds_and_pauses_that_chat():
    clock, outbox, api, deliverer = setup(errors.FloodWait(value=7))
    start = clock.now
    first = outbox.add("700001", "satu")
    second = outbox.add("700001", "dua")
    other = outbox.add("700002", "untuk yang lain")
    await deliverer.step()  # first → FloodWait
    assert outbox.rows[first].due == start + timedelta(seconds=7)
    assert outbox.rows[second].due == start + timedelta(seconds=7)  # waits behind, keeps its order
    await drain(deliverer, clock, outbox)
    sends = [(c.chat_id, c.kwargs["text"], (c.at - start).total_seconds()) for c in api.sent()]
    assert sends[0] == (700002, "untuk yang lain", 0.0)  # other chats are not held back
    assert [s[1] for s in sends[1:]] == ["satu", "dua"]
    assert sends[1][2] == pytest.approx(7.0, abs=1.01)
    assert sends[1][2] >= 7.0
    assert {outbox.state(i) for i in (first, second, other)} == {"sent"}


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (errors.UserIsBlocked(), "blocked the bot"),
        (errors.InputUserDeactivated(), "deleted"),
        (errors.PeerIdInvalid(), "never started the bot"),
        (errors.ChannelPrivate(), "not a member of this group"),
        (errors.ChatWriteForbidden(), "may not write"),
        (errors.ChatAdminRequired(), "admin rights"),
    ],
)
async def test_permanent_refusals_fail_the_item_once_with_a_reason(error: Exception, words: str):
    clock, outbox, api, deliverer = setup(error)
    item = outbox.add(str(GROUP_ID), "INFO dari 0812…")
    await drain(deliverer, clock, outbox)
    assert outbox.state(item) == "failed"
    assert words in outbox.rows[item].reasons[0]
    assert len(api.calls) == 1  # never retried


async def test_network_error_is_retried_with_growing_backoff_then_delivered():
    clock, outbox, api, deliverer = setup(OSError("Network is unreachable"), TimeoutError(), None)
    start = clock.now
    item = outbox.add("700001", "halo")
    await drain(deliverer, clock, outbox)
    assert outbox.state(item) == "sent"
    tries = [(c.at - start).total_seconds() for c in api.calls]
    assert tries[1] >= 15 and tries[2] - tries[1] >= 30  # 15 s, then 30 s
    assert outbox.rows[item].reasons[0].startswith("network error: OSError")


async def test_network_error_pauses_all_sending_briefly():
    _clock, outbox, api, deliverer = setup(OSError("down"))
    outbox.add("700001", "a")
    outbox.add("700002", "b")
    await deliverer.step()
    assert await deliverer.step() > 0  # the other chat waits for the network pause
    assert len(api.calls) == 1


async def test_transient_failures_give_up_after_the_attempt_cap():
    policy = DeliveryPolicy(max_attempts=3, retry=Backoff(1.0, 900.0))
    clock, outbox, api, deliverer = setup(*[errors.InternalServerError()] * 5, policy=policy)
    item = outbox.add("700001", "halo")
    await drain(deliverer, clock, outbox)
    assert outbox.state(item) == "failed"
    assert len(api.calls) == 3
    assert outbox.rows[item].reasons[-1].startswith("gave up after 3 attempts")


async def test_revoked_session_stops_delivery_with_a_credentials_error():
    _clock, outbox, _api, deliverer = setup(errors.AuthKeyUnregistered())
    item = outbox.add("700001", "halo")
    with pytest.raises(TelegramCredentialsError, match="no longer accepts"):
        await deliverer.step()
    assert outbox.rows[item].state == "pending"


async def test_run_recovers_at_start_and_gives_held_items_back_on_stop():
    _clock, outbox, api, deliverer = setup()
    stuck = outbox.add("700001", "from a crashed run")
    outbox.rows[stuck].state = "sending"
    stop = asyncio.Event()
    for n in range(3):
        outbox.add("700002", f"pesan {n}")

    async def stop_soon() -> None:
        while len(api.sent()) < 2:
            await asyncio.sleep(0)
        stop.set()

    await asyncio.gather(deliverer.run(stop), stop_soon())
    assert outbox.calls[0] == ("recover", "telegram")
    assert outbox.state(stuck) == "sent"
    assert deliverer.held == 0
    unsent = [r for r in outbox.rows.values() if r.state != "sent"]
    assert [r.item.text for r in unsent] == ["pesan 1", "pesan 2"]
    assert {r.state for r in unsent} == {"pending"}  # given back, not left `sending`


async def test_wake_makes_new_items_go_out_before_the_next_poll():
    clock, outbox, api, deliverer = setup()
    deliverer.poll = 30.0
    assert await deliverer.step() == 30.0
    outbox.add("700001", "baru")
    deliverer.wake()
    await deliverer._idle(30.0, asyncio.Event())
    await deliverer.step()
    assert len(api.sent()) == 1 and clock.slept == []


def test_concurrent_sends_overlap_network_latency_and_keep_every_limit():
    """Four sends in flight to different chats: slow calls overlap, each chat still gets 1 message/s."""

    async def morning() -> tuple[FakeTelegram, RecordingOutbox, float]:
        clock = loop_clock()
        outbox = RecordingOutbox()
        api = FakeTelegram(clock, latency=0.5, sleep=asyncio.sleep)
        for n in range(40):
            outbox.add(str(700001 + n % 10), f"pesan {n}", due=clock())
        deliverer = Deliverer(outbox, api, clock=clock, concurrency=4)
        stop = asyncio.Event()
        runner = asyncio.ensure_future(deliverer.run(stop))
        while any(r.state != "sent" for r in outbox.rows.values()):
            await asyncio.sleep(0.1)
        stop.set()
        await runner
        return api, outbox, (clock() - T0).total_seconds()

    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        api, outbox, took = runner.run(morning())
    assert {r.state for r in outbox.rows.values()} == {"sent"}
    assert len(api.sent()) == 40
    assert 3.0 <= took < 40 * 0.5 / 2  # 4 messages per chat need 3 s; one at a time would need 20 s
    for chat in {c.chat_id for c in api.sent()}:
        times = [c.at for c in api.sent() if c.chat_id == chat]
        texts = [c.kwargs["text"] for c in api.sent() if c.chat_id == chat]
        assert texts == sorted(texts, key=lambda t: int(t.split()[1]))  # order kept within a chat
        assert all((b - a).total_seconds() >= 1.0 for a, b in itertools.pairwise(times))


async def test_a_send_that_hangs_is_given_up_and_retried_later():
    _clock, outbox, api, deliverer = setup()
    deliverer.send_timeout = 0.01

    async def hang(chat_id: int, text: str, **kwargs: object) -> None:
        await asyncio.sleep(3600)

    api.send_message = hang  # type: ignore[method-assign]
    item = outbox.add("700001", "halo")
    await deliverer.step()
    assert outbox.rows[item].state == "pending" and outbox.rows[item].reasons[0].startswith("network error")


async def test_an_updated_keyboard_replaces_its_message_in_place():
    clock, outbox, api, deliverer = setup()
    buttons = ((Button("5. Budi Santoso [S]", "a20261130t5"),),)
    item = outbox.add("700001", "Absen X TKJ 1", buttons=buttons, edit="42")
    await drain(deliverer, clock, outbox)
    (call,) = api.sent("edit_message_text")
    assert call.kwargs["message_id"] == 42 and call.kwargs["text"] == "Absen X TKJ 1"
    assert api.sent("send_message") == []
    assert outbox.state(item) == "sent" and outbox.rows[item].native_id == "42"


async def test_a_keyboard_that_can_no_longer_be_edited_is_sent_anew():
    clock, outbox, api, deliverer = setup(errors.MessageIdInvalid())
    item = outbox.add("700001", "Absen X TKJ 1", buttons=((Button("Kirim", "a20261130k"),),), edit="42")
    await drain(deliverer, clock, outbox)
    assert len(api.sent("send_message")) == 1
    assert outbox.state(item) == "sent" and outbox.rows[item].native_id == "100"
