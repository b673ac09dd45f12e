"""The live pull from ZK-protocol fingerprint machines (SPEC §10, issue 14 item 1), against a fake machine on
loopback (`fake_zk.py`): the wire format, every record width, the punches in the table on both backends,
idempotent pulls, unknown ids counted, a machine that breaks off or answers garbage (a clear error, nothing
lost), the poller trying again after a failure, and `absensi finger pull` / `absensi run --finger`.
"""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from absensi.drivers.finger import Address, Record, ZkClient, ZkError, parse_address, split_address, zk
from absensi.drivers.finger import poller as poller_module
from absensi.drivers.finger.poller import DevicePoller, device_name
from absensi.engine.app.cli import app
from absensi.engine.app.finger_pull import drift_text, live_sink
from absensi.engine.ports import Backoff
from absensi.engine.school.model import School
from absensi.engine.store import Store

from .fake_zk import FakeZk
from .stored import punches

MINI = Path(__file__).resolve().parent.parent / "schools" / "mini"
WIB = ZoneInfo("Asia/Jakarta")
DAY = datetime(2026, 11, 30)

# What a gate machine holds on a morning: a student twice (the same finger read twice a second apart is two
# records; the same record twice in the log is one punch), a leading-zero id, a teacher (7), a stranger.
LOG = [
    ("1001", DAY.replace(hour=6, minute=52)),
    ("1001", DAY.replace(hour=6, minute=52)),  # the machine logged the same moment twice
    ("0001002", DAY.replace(hour=7, minute=12, second=10)),
    ("7", DAY.replace(hour=6, minute=30, second=2)),
    ("4711", DAY.replace(hour=6, minute=58)),
    ("1001", DAY.replace(hour=14, minute=5)),
    ("7", DAY.replace(hour=15, minute=1, second=44)),
]


@pytest.fixture
def device() -> Iterator[FakeZk]:
    with FakeZk(records=list(LOG), tz=WIB) as fake:
        yield fake


# ------------------------------------------------------------------------------------------ the wire


@pytest.mark.parametrize(("hexed", "expected"), [
    # the published test vectors of the protocol's description (payloads without the checksum field)
    ("0b00f38d03005a4b4661636556657273696f6e00", 0x175A),
    ("d007f38d0a0009", 0x6A29),  # odd length: the last byte is a word's low half
])
def test_the_checksum_matches_the_published_vectors(hexed: str, expected: int) -> None:
    assert zk.checksum(bytes.fromhex(hexed)) == expected


def test_a_frame_carries_magic_length_header_and_a_checksum_over_its_payload() -> None:
    framed = zk.frame(zk.CMD_CONNECT, 0x1234, 7, b"abc")
    assert framed[:4] == bytes.fromhex("5050827d")
    assert struct.unpack_from("<I", framed, 4)[0] == 8 + 3
    command, check, session, reply = struct.unpack_from("<4H", framed, 8)
    assert (command, session, reply) == (1000, 0x1234, 7)
    body = framed[8:]
    assert check == zk.checksum(body[:2] + b"\0\0" + body[4:])


def test_times_are_encoded_with_31_day_months() -> None:
    assert zk.encode_time(datetime(2000, 1, 1)) == 0
    assert zk.encode_time(datetime(2000, 2, 1)) == 31 * 86400
    assert zk.encode_time(datetime(2001, 1, 1, 0, 0, 1)) == 12 * 31 * 86400 + 1
    moment = datetime(2026, 11, 30, 6, 52, 7)
    assert zk.decode_time(zk.encode_time(moment)) == moment
    assert zk.decode_time(zk.encode_time(datetime(2026, 2, 1)) - 86400) == datetime(2026, 1, 31)
    with pytest.raises(ZkError, match="no date"):  # day 30 of the second month
        zk.decode_time(((26 * 12 + 1) * 31 + 29) * 86400)


def test_the_communication_key_is_scrambled_with_the_session() -> None:
    # worked by hand: key 0 → 0, + session 0, xor "ZKSO" = 5a 4b 53 4f, halves swapped = 53 4f 5a 4b,
    # xor 50 (0x32) with the third byte 0x32 itself
    assert zk.comm_key(0, 0) == bytes.fromhex("617d3279")
    # key 1 → bit 0 mirrored to bit 31: 00 00 00 80 → 5a 4b 53 cf → 53 cf 5a 4b → 61 fd 32 79
    assert zk.comm_key(1, 0) == bytes.fromhex("61fd3279")
    assert zk.comm_key(1234, 0x3A1F) != zk.comm_key(1234, 0x3B1F)  # (its lowest byte gives way to `ticks`)


@pytest.mark.parametrize(("address", "expected"), [
    ("192.168.1.201", ("192.168.1.201", 4370, 0)),
    ("192.168.1.201:4371", ("192.168.1.201", 4371, 0)),
    ("123456@mesin-gerbang.local", ("mesin-gerbang.local", 4370, 123456)),
])
def test_addresses(address: str, expected: tuple[str, int, int]) -> None:
    assert split_address(address) == expected
    assert "123456" not in device_name(address)


def test_udp_addresses() -> None:
    assert parse_address("udp://1234@10.0.0.7:4371") == Address("10.0.0.7", 4371, 1234, udp=True)
    assert parse_address("tcp://10.0.0.7") == parse_address("10.0.0.7") == Address("10.0.0.7", 4370, 0, udp=False)
    assert device_name("udp://10.0.0.7") == device_name("10.0.0.7") == "zk 10.0.0.7:4370"  # one machine
    with pytest.raises(ValueError, match="over tcp:// \\(the default\\) or udp://"):
        parse_address("http://10.0.0.7")


@pytest.mark.parametrize(("address", "message"), [
    ("", "has no host"), (":4370", "has no host"), ("host:port", "are numbers"), ("host:70000", "out of range"),
    ("abc@host", "are numbers"),
])
def test_a_wrong_address_says_what_is_wrong(address: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split_address(address)


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
@pytest.mark.parametrize("width", [40, 16, 8])
def test_every_record_width_is_read_through_the_buffer_in_chunks(width: int, udp: bool) -> None:
    log = [(user.lstrip("0"), at + timedelta(minutes=i)) for i, (user, at) in enumerate(LOG * 30)]
    with FakeZk(records=log, width=width, frame_size=300, udp=udp) as fake, \
            ZkClient("127.0.0.1", fake.port, chunk=1000, udp=udp) as client:
        count = client.record_count()
        got = client.attendance(count)
    assert count == len(log) == 210
    assert [(r.user_id, r.at) for r in got] == log
    reads = fake.commands.count(zk.CMD_READ_BUFFER)
    assert reads >= (4 + width * 210) // 1000  # chunks of at most 1000 bytes
    assert zk.CMD_FREE_DATA in fake.commands and zk.CMD_DISABLEDEVICE not in fake.commands
    assert fake.commands[-1] == zk.CMD_EXIT


def test_a_small_log_comes_at_once_and_leading_zeros_stay_as_the_machine_wrote_them(device: FakeZk) -> None:
    with ZkClient("127.0.0.1", device.port) as client:
        got = client.attendance()
    assert zk.CMD_READ_BUFFER not in device.commands  # 7 × 40 bytes: answered DATA at once
    assert [r.user_id for r in got] == [user for user, _ in LOG]


@pytest.mark.parametrize("width", [40, 8])
def test_a_punch_made_while_the_log_is_read_is_read_too(width: int) -> None:
    log = [(user.lstrip("0"), at) for user, at in LOG]
    late = ("1003", DAY.replace(hour=7, minute=2))
    with FakeZk(records=list(log), width=width, punch_during_pull=late) as fake, \
            ZkClient("127.0.0.1", fake.port) as client:
        count = client.record_count()
        got = client.attendance(count)
    assert count == 7 and [(r.user_id, r.at) for r in got] == [*log, late]


def test_a_machine_with_a_communication_key() -> None:
    with FakeZk(records=list(LOG), key=5555) as fake:
        with ZkClient("127.0.0.1", fake.port, key=5555) as client:
            assert len(client.attendance()) == len(LOG)
        with pytest.raises(ZkError, match="has a communication key"), ZkClient("127.0.0.1", fake.port):
            pass
        with pytest.raises(ZkError, match="refused the communication key"), \
                ZkClient("127.0.0.1", fake.port, key=5556):
            pass


@pytest.mark.parametrize(("fault", "udp", "message"), [
    ("close", False, r"closed the connection .* while reading the attendance log of 7 record\(s\); none of it is "
                     r"used"),
    ("close", True, r"no answer within 0\.5 s \(UDP\) — while reading the attendance log of 7 record\(s\)"),
    ("garbage", False, r"not a ZK reply \(it starts 48 54 54 50, expected 50 50 82 7d\)"),
    ("garbage", True, r"not a ZK reply \(a datagram starting 48 54 54 50\)"),
    ("error", False, r"command 1503 answered ACK_ERROR"),
    ("error", True, r"command 1503 answered ACK_ERROR"),
    ("silent", False, r"no answer within 0\.5 s"),
    ("silent", True, r"no answer within 0\.5 s \(UDP\)"),
])
def test_a_machine_that_misbehaves_gives_a_clear_error(fault: str, udp: bool, message: str) -> None:
    with FakeZk(records=list(LOG), fault=fault, direct_up_to=0, udp=udp) as fake, \
            pytest.raises(ZkError, match=message), \
            ZkClient("127.0.0.1", fake.port, timeout=0.5, chunk=100, udp=udp) as client:
        client.attendance()


def test_nobody_listening() -> None:
    with FakeZk() as fake:
        port = fake.port
    with pytest.raises(ZkError, match=rf"127\.0\.0\.1:{port}: cannot connect"):
        ZkClient("127.0.0.1", port, timeout=1).connect()
    with FakeZk(udp=True) as fake:
        port = fake.port
    with pytest.raises(ZkError, match=rf"127\.0\.0\.1:{port}: nothing answers on this UDP port"):
        ZkClient("127.0.0.1", port, timeout=1, udp=True).connect()


def test_a_log_that_does_not_divide_into_records_is_refused() -> None:
    with pytest.raises(ZkError, match="do not divide into 3 records"):
        zk.parse_log(struct.pack("<I", 50) + b"\0" * 50, 3)
    assert zk.parse_log(struct.pack("<I", 0), 0) == []


# ----------------------------------------------------------------------------------- into the store


def sink_for(db_url: str, school: School, woken: list[int]) -> tuple[Store, poller_module.PullSink]:
    store = Store(db_url)
    return store, live_sink(store, lambda: school, lambda: woken.append(1),
                            clock=lambda: datetime(2026, 11, 30, 10, 0, tzinfo=WIB))


def test_a_pull_stores_punches_once_and_counts_unknown_ids(db_url: str, mini: School, device: FakeZk) -> None:
    woken: list[int] = []
    store, sink = sink_for(db_url, mini, woken)
    try:
        puller = DevicePoller(device.address, sink, lambda: 300.0)
        said = puller.pull_once()
        assert said == "7 punch(es) read: 6 new, 1 already stored; 3 by 2 unknown id(s), kept without a student"
        assert woken == [1]
        found = punches(db_url)
        assert [(nis, user) for nis, user, *_ in found] == [
            (None, "7"), ("1001", "1001"), (None, "4711"), ("1002", "0001002"), ("1001", "1001"), (None, "7")]
        assert found[1][2] == datetime(2026, 11, 29, 23, 52, tzinfo=UTC)  # 06:52 WIB
        assert {d for *_, d, _ in found} == {f"zk {device.address}"} and {s for *_, s in found} == {"live"}

        # the machine holds the same records: the next pull does not even read them
        assert puller.pull_once() == "7 record(s), none new"
        assert device.commands.count(zk.CMD_PREPARE_BUFFER) == 1

        # a new punch: the whole log is read again and only the record after those taken goes to the store
        device.records.append(("1003", DAY.replace(hour=7, minute=1)))
        assert puller.pull_once() == "1 punch(es) read: 1 new, 0 already stored"
        assert len(punches(db_url)) == 7 and woken == [1, 1]

        # the log cleared on the machine and refilled: not the log seen before, so all of it goes to the store
        device.records[:] = [("1004", DAY.replace(hour=6, minute=40)), *LOG[:3]]
        assert puller.pull_once().startswith("4 punch(es) read: 1 new, 3 already stored")
        assert len(punches(db_url)) == 8 and woken == [1, 1, 1]

        # a fresh poller (a restart) reads everything again and adds nothing
        assert DevicePoller(device.address, sink, lambda: 300.0).pull_once().startswith("4 punch(es) read: 0 new")
        assert woken == [1, 1, 1]
    finally:
        store.close()


@pytest.mark.parametrize(("fault", "udp"), [("close", False), ("garbage", False), ("close", True)])
def test_a_failed_pull_loses_nothing_and_the_poller_tries_again(db_url: str, mini: School, fault: str,
                                                                udp: bool) -> None:
    woken: list[int] = []
    store, sink = sink_for(db_url, mini, woken)
    with FakeZk(records=list(LOG) * 30, fault=fault, direct_up_to=0, tz=WIB, udp=udp) as fake:
        fake.records = [(u, at + timedelta(minutes=i)) for i, (u, at) in enumerate(fake.records)]
        pulls = poller_module.start([fake.address], sink, lambda: 3600.0, reconnect=Backoff(0.05, 0.2), timeout=2)
        try:
            polled = pulls.pollers[0]
            assert polled.pulled.wait(10)
            assert polled.state.startswith("failing: ") and polled.failures >= 1
            assert punches(db_url) == [] and woken == []
            fake.fault = None  # the machine is back: the next try, within the reconnect wait, gets everything
            deadline = time.monotonic() + 15
            while polled.pulls == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert polled.pulls == 1 and polled.state == "ready" and polled.failures == 0
            assert len(punches(db_url)) == 210 and woken == [1]
            assert pulls.states() == {device_name(fake.address): "ready"}
        finally:
            pulls.stop()
            store.close()


def test_a_full_log_is_read_every_time(db_url: str, mini: School) -> None:
    """A machine whose log is full may overwrite its oldest records: the count stays, the records change."""
    woken: list[int] = []
    store, sink = sink_for(db_url, mini, woken)
    try:
        with FakeZk(records=list(LOG), capacity=len(LOG), tz=WIB) as fake:
            puller = DevicePoller(fake.address, sink, lambda: 300.0)
            assert puller.pull_once().startswith("7 punch(es) read: 6 new")
            fake.records[:] = [*fake.records[1:], ("1004", DAY.replace(hour=7, minute=30))]
            assert puller.pull_once().startswith("7 punch(es) read: 1 new, 6 already stored")
            assert puller.full_said and fake.commands.count(zk.CMD_PREPARE_BUFFER) == 2
        assert len(punches(db_url)) == 7
    finally:
        store.close()


def test_a_database_failure_is_a_failed_pull_too(mini: School, device: FakeZk) -> None:
    calls: list[int] = []

    def broken(device_name: str, records: list[Record], clock: datetime | None) -> str:
        calls.append(len(records))
        raise OSError("database down")

    puller = DevicePoller(device.address, broken, lambda: 300.0)
    with pytest.raises(OSError):
        puller.pull_once()
    with pytest.raises(OSError):  # not skipped as "none new": the sink never took those records
        puller.pull_once()
    assert calls == [7, 7] and puller.pulls == 0


def test_a_clock_an_hour_off_is_pointed_out(mini: School) -> None:
    now = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # 07:00 WIB
    assert drift_text("zk x:4370", datetime(2026, 11, 30, 7, 3), mini, now) is None
    said = drift_text("zk x:4370", datetime(2026, 11, 30, 8, 0), mini, now)
    assert said is not None and said.startswith("the clock of zk x:4370 is 60 min ahead (2026-11-30 08:00)")
    behind = drift_text("zk x:4370", datetime(2026, 11, 30, 6, 0), mini, now)
    assert behind is not None and "60 min behind" in behind


# ------------------------------------------------------------------------------------ the commands


@pytest.fixture
def school(tmp_path: Path) -> Path:
    directory = tmp_path / "school"
    shutil.copytree(MINI, directory)
    return directory


def test_finger_pull_stores_and_says_what_came(school: Path, db_url: str) -> None:
    Store(db_url).close()
    with FakeZk(records=list(LOG), clock_offset=timedelta(hours=1), tz=WIB) as fake:
        result = CliRunner().invoke(app, ["finger", "pull", fake.address, "--school", str(school), "--db", db_url,
                                          "--list"])
        out = result.output
        assert result.exit_code == 0, out
        assert f"zk {fake.address}: 7 record(s) on the machine" in out
        assert "from 2026-11-30 06:30 to 2026-11-30 15:01" in out
        assert "  0001002\t2026-11-30 07:12:10" in out  # --list: the attlog.dat shape
        assert f"zk {fake.address}:4:1: warning: unknown finger id 7 (2 punches)" in out
        assert f"zk {fake.address}:5:1: warning: unknown finger id 4711 (1 punch)" in out
        assert "7 punch(es) read: 6 new, 1 already stored; 3 by 2 unknown id(s)" in out
        assert "is 60 min ahead" in out
        again = CliRunner().invoke(app, ["finger", "pull", fake.address, "--school", str(school), "--db", db_url])
        assert again.exit_code == 0 and "7 punch(es) read: 0 new, 7 already stored" in again.output
    assert len(punches(db_url)) == 6


def test_a_corrupt_record_is_left_out_and_said_not_a_failed_pull(school: Path, db_url: str) -> None:
    Store(db_url).close()
    with FakeZk(records=list(LOG), corrupt=(2,), tz=WIB) as fake:
        result = CliRunner().invoke(app, ["finger", "pull", fake.address, "--school", str(school), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert f"zk {fake.address}: record 3: its time ({((26 * 12 + 1) * 31 + 29) * 86400}) is no date: day 30 of " \
           "month 2 of 2026: left out" in result.output
    assert "6 punch(es) read: 5 new, 1 already stored" in result.output
    assert "0001002" not in {user for _, user, *_ in punches(db_url)}  # the corrupt record was 0001002's


def test_finger_pull_of_a_machine_that_breaks_off_stores_nothing(school: Path, db_url: str) -> None:
    Store(db_url).close()
    with FakeZk(records=list(LOG) * 40, fault="close", direct_up_to=0) as fake:
        result = CliRunner().invoke(app, ["finger", "pull", fake.address, "--school", str(school), "--db", db_url])
    assert result.exit_code == 1
    assert "closed the connection" in result.output and "Nothing was stored." in result.output
    assert punches(db_url) == []


@pytest.mark.parametrize(("args", "message"), [
    (["--finger", "host:port"], "the port and the communication key are numbers"),
    (["--finger", "10.0.0.9", "--finger", "10.0.0.9:4370"], "the same machine is given twice: zk 10.0.0.9:4370"),
])
def test_run_refuses_a_wrong_finger_address_before_starting(school: Path, args: list[str], message: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["run", "--school", str(school), *args])
    assert result.exit_code == 2 and message in result.output


def test_the_engine_runs_its_cross_checks_when_punches_come(mini: School) -> None:
    """`Leader.punched` (set by the pollers' sink) makes the next engine round run the scheduled jobs."""
    from absensi.engine.app import service

    class Engine:
        ticks = 0

        def process_pending(self, now: datetime) -> list[object]:
            return []

        def tick(self, now: datetime) -> list[object]:
            Engine.ticks += 1
            return []

        def next_due(self, now: datetime) -> datetime | None:
            return None

    leader = service.Leader.__new__(service.Leader)
    leader.engine = Engine()  # type: ignore[assignment]
    leader.punched = threading.Event()
    leader.try_lead = lambda now: True  # type: ignore[method-assign]
    leader.reload_if_changed = lambda now: []  # type: ignore[method-assign]
    leader.lease = type("L", (), {"until_beat": lambda self, now: 30.0, "release": lambda self: None})()
    leader._next_watch = time.monotonic() + 3600
    stop, wake = threading.Event(), threading.Event()

    class Wake:
        def clear(self) -> None:
            wake.clear()

        def wait(self, timeout: float) -> bool:
            return wake.wait(timeout)

    thread = threading.Thread(target=leader.run, args=(stop, lambda: datetime.now(UTC), 30.0, None, Wake()))
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while Engine.ticks < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert Engine.ticks == 1  # the first round; the next tick is due in 30 s
        leader.punched.set()
        wake.set()
        while Engine.ticks < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert Engine.ticks == 2 and not leader.punched.is_set()
    finally:
        stop.set()
        wake.set()
        thread.join(5)


def test_absensi_run_pulls_the_machines_it_is_given(school: Path, db_url: str) -> None:
    """The service itself (a child process, as an operator starts it): with only `--finger`, no modem and no
    Telegram, it runs, pulls the machine at once, stores its punches and stops cleanly on SIGTERM."""
    Store(db_url).close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    with FakeZk(records=list(LOG), tz=WIB) as fake, tempfile.TemporaryFile() as log:
        service = subprocess.Popen([sys.executable, "-m", "absensi.engine.app.cli", "run", "--school", str(school),
                                    "--db", db_url, "--finger", fake.address], stdout=log, stderr=subprocess.STDOUT,
                                   env=env)
        try:
            deadline = time.monotonic() + 60
            while len(punches(db_url)) < 6 and service.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(punches(db_url)) == 6
            service.send_signal(signal.SIGTERM)
            assert service.wait(30) == 0
        finally:
            if service.poll() is None:
                service.kill()
                service.wait(10)
            log.seek(0)
            out = log.read().decode(errors="replace")
    assert f"Finger: 1 machine(s): zk {fake.address}, pulled every 5 min" in out, out
    assert f"finger zk {fake.address}: 7 punch(es) read: 6 new, 1 already stored" in out, out
    assert "unknown finger id(s) 4711, 7" in out, out
