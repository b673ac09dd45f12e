"""The Android driver end to end: the real store (SQLite and PostgreSQL), a fake phone on loopback that
follows the app's API, and signed webhooks — what goes out goes out once, what comes in is stored once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from absensi.engine.messages import Channel
from absensi.engine.store import Store

from .conftest import KEY, RETRY, add_sms, inbox_rows, row, wait_for
from .fake_gateway import FakeGateway

HERE = Path(__file__).resolve().parent
PARENT = "+6281234500001"


def test_an_outbox_row_goes_out_and_the_phones_reports_mark_it(store: Store, phone: FakeGateway, gateways,
                                                                clock) -> None:
    gws = gateways([phone.url])
    assert {w["event"] for w in phone.webhooks.values()} == {"sms:received", "sms:sent", "sms:delivered",
                                                              "sms:failed"}
    assert {w["url"] for w in phone.webhooks.values()} == {gws.webhook_url}
    assert phone.signing_key == KEY and phone.settings["webhooks"]["internet_required"] is False
    item = add_sms(store, PARENT, "Budi tidak hadir hari ini (Alfa).", clock())
    wait_for(lambda: phone.ids_for("Budi tidak hadir hari ini (Alfa)."), what="the send")
    [mid] = phone.ids_for("Budi tidak hadir hari ini (Alfa).")
    assert phone.messages[mid]["phone"] == PARENT and phone.messages[mid]["withDeliveryReport"] is True
    assert row(store, item).status == "sending"  # the phone holds it; not on the network yet
    assert phone.advance(mid, "Processed", webhook=False) == []
    assert phone.advance(mid, "Sent") == [200]
    wait_for(lambda: row(store, item).status == "sent")
    assert row(store, item).native_id == mid
    assert phone.advance(mid, "Delivered", times=2) == [200, 200]  # the second: the app's retry
    wait_for(lambda: row(store, item).status == "delivered")
    assert row(store, item).attempts == 0 and phone.posts == [(mid, 202)]


def test_a_received_sms_delivered_twice_is_one_inbox_row(store: Store, phone: FakeGateway, gateways) -> None:
    gateways([phone.url])
    assert phone.receive("+6281234500009", "SAKIT Budi demam", times=2) == [200, 200]
    assert phone.receive("081234500008", "IZIN acara keluarga") == [200]
    rows = inbox_rows(store)
    assert [(r.channel, r.sender, r.text) for r in rows] == [
        ("sms", "+6281234500009", "SAKIT Budi demam"), ("sms", "+6281234500008", "IZIN acara keluarga")]
    assert all(r.source_id.startswith(f"smsgw:{phone.device_id}:") for r in rows)


def test_forged_unsigned_stale_or_tampered_webhooks_are_refused_and_store_nothing(store: Store, phone: FakeGateway,
                                                                                  gateways, clock) -> None:
    import time

    gateways([phone.url])
    sms = {"messageId": "a1b2c3d4", "message": "REG AB12CD", "phoneNumber": PARENT, "sender": PARENT,
           "receivedAt": "2026-12-01T07:05:00.000+07:00"}
    assert phone.post_webhook("sms:received", sms, signed=False) == [401]
    assert phone.post_webhook("sms:received", sms, key="tebakan") == [401]
    assert phone.post_webhook("sms:received", sms, timestamp=int(time.time()) - 3600) == [401]
    assert phone.post_webhook("sms:received", sms, tamper=True) == [401]
    assert inbox_rows(store) == []
    # a forged "sent" for a message the phone holds does not mark it sent
    item = add_sms(store, PARENT, "tunggu", clock())
    wait_for(lambda: phone.ids_for("tunggu"))
    [mid] = phone.ids_for("tunggu")
    forged = {"messageId": mid, "phoneNumber": PARENT, "sentAt": "2026-12-01T07:06:00.000+07:00"}
    assert phone.post_webhook("sms:sent", forged, key="tebakan") == [401]
    assert row(store, item).status == "sending"
    assert phone.post_webhook("sms:received", sms) == [200]  # the same, signed: in
    assert [r.text for r in inbox_rows(store)] == ["REG AB12CD"]


def test_a_phone_that_is_down_gets_nothing_and_a_send_caught_by_its_fall_is_retried_with_backoff(
        store: Store, phone: FakeGateway, gateways, clock) -> None:
    gws = gateways([phone.url])
    phone.stop()
    first = add_sms(store, PARENT, "pertama", clock())
    wait_for(lambda: row(store, first).attempts == 1, what="the failed hand-over")
    failed = row(store, first)
    assert failed.status == "pending" and "phone unreachable" in (failed.error or "")
    wait_for(lambda: gws.states() == {f"127.0.0.1:{phone.port}": "down"})
    assert failed.next_try_at - clock() > timedelta(seconds=RETRY.first - 5)  # backoff, not at once
    second = add_sms(store, PARENT, "kedua", clock())
    phone.start()  # same port
    wait_for(lambda: phone.ids_for("kedua"), what="the phone back")
    assert row(store, second).attempts == 0 and not phone.ids_for("pertama")  # not due yet
    clock.advance(timedelta(seconds=RETRY.first + 1))
    wait_for(lambda: phone.ids_for("pertama"), what="the retry")
    assert phone.ids_for("pertama")[0].startswith(f"abs-{first}-1-")


def test_a_failure_the_phone_reports_is_retried_under_a_new_id_or_failed_for_good(store: Store, phone: FakeGateway,
                                                                                  gateways, clock) -> None:
    gateways([phone.url])
    item = add_sms(store, PARENT, "sinyal hilang", clock())
    wait_for(lambda: phone.ids_for("sinyal hilang"))
    [first] = phone.ids_for("sinyal hilang")
    no_service = "Send result: RESULT_ERROR_NO_SERVICE (Failed because service is currently unavailable)"
    assert phone.advance(first, "Failed", no_service) == [200]
    wait_for(lambda: row(store, item).attempts == 1)
    assert row(store, item).status == "pending" and "RESULT_ERROR_NO_SERVICE" in (row(store, item).error or "")
    assert phone.post_webhook("sms:failed", {"messageId": first, "phoneNumber": PARENT, "reason": no_service}) == [200]
    assert row(store, item).attempts == 1  # the app's retry of that webhook counts nothing twice
    clock.advance(timedelta(seconds=RETRY.first + 1))
    wait_for(lambda: len(phone.ids_for("sinyal hilang")) == 2, what="the retry under a new id")
    second = next(m for m in phone.ids_for("sinyal hilang") if m != first)
    assert second.startswith(f"abs-{item}-1-")
    phone.advance(second, "Failed", "Send result: RESULT_ERROR_FDN_CHECK_FAILURE (Failed because FDN is enabled)")
    wait_for(lambda: row(store, item).status == "failed")
    assert "FDN" in (row(store, item).error or "") and phone.radio == []


def test_a_delivery_failure_after_sending_is_a_failed_delivery_report(store: Store, phone: FakeGateway,
                                                                      gateways, clock) -> None:
    gateways([phone.url])
    item = add_sms(store, PARENT, "tidak sampai", clock())
    wait_for(lambda: phone.ids_for("tidak sampai"))
    [mid] = phone.ids_for("tidak sampai")
    phone.advance(mid, "Sent")
    wait_for(lambda: row(store, item).status == "sent")
    phone.advance(mid, "Failed", "Delivery result from SC +62816124: 70")
    wait_for(lambda: row(store, item).status == "failed")
    assert row(store, item).payload.get("delivered") is False and len(phone.ids_for("tidak sampai")) == 1


def test_a_message_the_phone_refuses_fails_with_its_reason(store: Store, phone: FakeGateway, gateways,
                                                           clock) -> None:
    gateways([phone.url])
    bad = add_sms(store, "12", "nomor salah", clock())
    odd = add_sms(store, "+6281", "nomor aneh", clock())  # the phone finds it too short
    wait_for(lambda: row(store, bad).status == "failed" and row(store, odd).status == "failed")
    assert "not a phone number" in (row(store, bad).error or "")
    assert "Invalid phone number" in (row(store, odd).error or "")


def test_lost_webhooks_are_made_up_for_by_asking_the_phone(store: Store, phone: FakeGateway, gateways,
                                                           clock) -> None:
    gateways([phone.url])
    item = add_sms(store, PARENT, "tanpa webhook", clock())
    wait_for(lambda: phone.ids_for("tanpa webhook"))
    [mid] = phone.ids_for("tanpa webhook")
    phone.advance(mid, "Sent", webhook=False)
    wait_for(lambda: row(store, item).status == "sent", what="the poll")
    phone.advance(mid, "Delivered", webhook=False)  # after `sent` nothing asks again: a report needs its webhook
    phone.post_webhook("sms:delivered", {"messageId": mid, "phoneNumber": PARENT})
    wait_for(lambda: row(store, item).status == "delivered")


def test_a_send_without_an_answer_is_asked_about_not_sent_again(store: Store, phone: FakeGateway, gateways,
                                                                clock) -> None:
    gateways([phone.url])
    phone.drop_next_post = True  # the phone queues it, the answer is lost
    item = add_sms(store, PARENT, "jawaban hilang", clock())
    wait_for(lambda: phone.ids_for("jawaban hilang"))
    [mid] = phone.ids_for("jawaban hilang")
    wait_for(lambda: ("GET", f"/messages/{mid}") in phone.requests, what="the question")
    phone.advance(mid, "Sent")
    wait_for(lambda: row(store, item).status == "sent")
    assert phone.posts == [(mid, None)] and row(store, item).attempts == 0


def test_a_message_sent_while_the_driver_was_down_is_recorded_not_resent(store: Store, phone: FakeGateway,
                                                                         gateways, clock) -> None:
    first_run = gateways([phone.url])
    item = add_sms(store, PARENT, "terkirim saat mati", clock())
    wait_for(lambda: phone.ids_for("terkirim saat mati"))
    [mid] = phone.ids_for("terkirim saat mati")
    first_run.stop()  # as good as a crash for the row: it stays `sending`, claimed by this worker
    phone.advance(mid, "Sent", webhook=False)  # the phone sends it meanwhile; its webhook finds nobody
    assert row(store, item).status == "sending"
    gateways([phone.url])
    wait_for(lambda: row(store, item).status == "sent")
    assert phone.posts == [(mid, 202), (mid, 409)] and phone.radio == [mid]


def test_a_crash_while_the_phone_holds_a_message_never_sends_it_twice(db_url: str, store: Store,
                                                                      phone: FakeGateway, gateways, clock) -> None:
    """A real process, killed (SIGKILL) after the phone queued the message and before it could answer."""
    phone.hang_next_post = True
    item = add_sms(store, PARENT, "Budi sakit, surat menyusul.", datetime.now(UTC))  # the child's clock is real
    child = subprocess.Popen([sys.executable, str(HERE / "run_gateway.py"), db_url, phone.url, KEY],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: phone.hanging.is_set() or child.poll() is not None, timeout=60, what="the child's send")
    finally:
        os.kill(child.pid, signal.SIGKILL)
        _, err = child.communicate()
    assert phone.hanging.is_set(), err.decode()[-3000:]
    phone.release()
    assert row(store, item).status == "sending"
    [mid] = phone.ids_for("Budi sakit, surat menyusul.")
    gateways([phone.url])  # the next run: takes the row back, asks the phone, which has it
    wait_for(lambda: (mid, 409) in phone.posts, what="the resend recognised")
    assert row(store, item).status == "sending"
    phone.advance(mid, "Sent")
    wait_for(lambda: row(store, item).status == "sent")
    assert phone.ids_for("Budi sakit, surat menyusul.") == [mid] and phone.radio == [mid]
    assert [p for p in phone.posts if p[0] == mid] == [(mid, None), (mid, 409)]


def test_a_long_sms_goes_whole_and_parts_a_modem_sent_are_not_repeated(store: Store, phone: FakeGateway,
                                                                       gateways, clock) -> None:
    long_text = "Yth. Bapak/Ibu, " + "ananda tidak hadir tanpa keterangan. " * 10
    whole = add_sms(store, PARENT, long_text, clock())
    # a modem that sent 2 of its 3 parts (153 characters each) before it stopped; the row is queued again
    taken = add_sms(store, PARENT, "x" * 153 + "y" * 153 + "z" * 40, clock(), parts=["p1a2b3c4/011", "p1a2b3c4/012"])
    gateways([phone.url])
    wait_for(lambda: phone.ids_for(long_text) and phone.ids_for("z" * 40))
    [mid] = phone.ids_for("z" * 40)
    phone.advance(mid, "Sent")
    wait_for(lambda: row(store, taken).status == "sent")
    assert row(store, taken).native_id == f"p1a2b3c4/011,p1a2b3c4/012,{mid}"
    assert row(store, whole).status == "sending" and len(phone.ids_for(long_text)) == 1


def test_gsm_and_phone_share_the_queue_through_claims(store: Store, phone: FakeGateway, gateways, clock) -> None:
    """Rows a modem claimed are not the phone's; the phone takes only pending SMS rows."""
    taken_by_modem = add_sms(store, PARENT, "lewat modem", clock())
    [claimed] = store.claim(Channel.SMS, clock(), limit=1, worker="gsm:/dev/ttyUSB0")
    assert claimed.id == taken_by_modem
    mine = add_sms(store, PARENT, "lewat ponsel", clock())
    gateways([phone.url])
    wait_for(lambda: phone.ids_for("lewat ponsel"))
    assert not phone.ids_for("lewat modem") and row(store, taken_by_modem).status == "sending"
    assert row(store, mine).payload["worker"].startswith(f"android:127.0.0.1:{phone.port}@")
