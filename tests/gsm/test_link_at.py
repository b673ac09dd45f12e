"""Link framing and the AT dialogue, over a scripted in-memory port."""

from __future__ import annotations

import queue
import threading

import pytest

from absensi.drivers.gsm.at import AtChannel, reply_prefix
from absensi.drivers.gsm.errors import AtTimeout, CmeError, CmsError, CommandError, LinkClosed
from absensi.drivers.gsm.link import Link, Unsolicited

from .conftest import wait_for


class ScriptedPort:
    """Answers each written command with the bytes the test scripted for it."""

    def __init__(self, script: dict[bytes, bytes] | None = None) -> None:
        self.script = script or {}
        self.written: list[bytes] = []
        self.incoming: queue.Queue[bytes | Exception] = queue.Queue()
        self.closed = threading.Event()

    def read(self, size: int = 1) -> bytes:
        try:
            item = self.incoming.get(timeout=0.05)
        except queue.Empty:
            return b""
        if isinstance(item, Exception):
            raise item
        return item

    def write(self, data: bytes) -> int:
        self.written.append(data)
        for key, answer in self.script.items():
            if data.startswith(key):
                self.incoming.put(answer)
        return len(data)

    def close(self) -> None:
        self.closed.set()


@pytest.fixture
def wired():
    events: list[Unsolicited] = []
    port = ScriptedPort()
    link = Link(port, events.append, name="test").start()
    yield port, AtChannel(link, default_timeout=0.5), events
    link.close()


def test_unsolicited_lines_inside_a_reply_are_kept_apart(wired) -> None:
    port, at, events = wired
    port.script[b"AT+CMGL=4"] = (b"\r\n+CMGL: 1,0,,5\r\n\r\n+CMTI: \"SM\",2\r\n0011AABB\r\n^RSSI:17\r\n"
                                 b"+CMGL: 2,0,,5\r\nRING\r\n0011CCDD\r\n\r\nOK\r\n")
    lines = at.command("AT+CMGL=4")
    assert lines == ["+CMGL: 1,0,,5", "0011AABB", "+CMGL: 2,0,,5", "0011CCDD"]
    assert [e.line for e in events] == ['+CMTI: "SM",2', "^RSSI:17", "RING"]


def test_routed_message_keeps_its_pdu_line_even_during_a_command(wired) -> None:
    port, at, events = wired
    port.script[b"AT+CSQ"] = b"\r\n+CMT: ,23\r\n07916282ABCD\r\n+CSQ: 18,0\r\n\r\nOK\r\n"
    assert at.command("AT+CSQ") == ["+CSQ: 18,0"]
    assert events == [Unsolicited("+CMT: ,23", "07916282ABCD")]


def test_same_prefix_is_a_reply_only_while_its_command_runs(wired) -> None:
    port, at, events = wired
    port.script[b"AT+CREG?"] = b"\r\n+CREG: 0,1\r\n\r\nOK\r\n"
    assert at.command("AT+CREG?") == ["+CREG: 0,1"]
    port.incoming.put(b"\r\n+CREG: 2\r\n")
    wait_for(lambda: events, what="unsolicited +CREG")
    assert events[0].line == "+CREG: 2"


def test_echo_is_ignored(wired) -> None:
    port, at, _ = wired
    port.script[b"AT+CGMM"] = b"AT+CGMM\r\r\nE173\r\n\r\nOK\r\n"
    assert at.command("AT+CGMM") == ["E173"]


@pytest.mark.parametrize(("answer", "error", "code"), [
    (b"\r\n+CME ERROR: 14\r\n", CmeError, 14), (b"\r\n+CMS ERROR: 42\r\n", CmsError, 42),
    (b"\r\nCOMMAND NOT SUPPORT\r\n", CommandError, None), (b"\r\nERROR\r\n", CommandError, None),
])
def test_errors_are_typed_with_their_meaning(wired, answer, error, code) -> None:
    port, at, _ = wired
    port.script[b"AT+X"] = answer
    with pytest.raises(error) as caught:
        at.command("AT+X")
    if code is not None:
        assert caught.value.code == code and caught.value.meaning in str(caught.value)


def test_cms_transient_and_permanent() -> None:
    assert CmsError("AT+CMGS", 42).transient and CmsError("AT+CMGS", 500).transient
    assert not CmsError("AT+CMGS", 28).transient
    assert "congestion" in str(CmsError("AT+CMGS", 42))


def test_timeout_then_next_command_is_not_confused_by_the_late_answer(wired) -> None:
    port, at, _ = wired
    with pytest.raises(AtTimeout):
        at.command("AT+SLOW", timeout=0.1)
    port.incoming.put(b"\r\nLATE\r\n\r\nOK\r\n")  # the slow answer arrives after all
    port.script[b"AT+CSQ"] = b"\r\n+CSQ: 9,0\r\n\r\nOK\r\n"
    wait_for(lambda: port.incoming.empty())
    assert at.command("AT+CSQ") == ["+CSQ: 9,0"]


def test_cpin_without_ok_counts_as_complete(wired) -> None:
    port, at, _ = wired
    port.script[b"AT+CPIN?"] = b"\r\n+CPIN: READY\r\n"
    assert at.command("AT+CPIN?", ok_without="+CPIN:") == ["+CPIN: READY"]


def test_send_pdu_waits_for_prompt_then_reads_reference(wired) -> None:
    port, at, _ = wired
    port.script[b"AT+CMGS=16"] = b"\r\n> "
    port.script[b"0011"] = b"\r\n+CMGS: 77\r\n\r\nOK\r\n"
    assert at.send_pdu(16, "0011", 0.5, 0.5) == ["+CMGS: 77"]
    assert port.written[-1] == b"0011\x1a"


def test_port_vanishing_wakes_a_waiting_command(wired) -> None:
    port, at, _ = wired
    threading.Timer(0.1, lambda: port.incoming.put(OSError(5, "Input/output error"))).start()
    with pytest.raises(LinkClosed):
        at.command("AT+WAIT", timeout=3)
    with pytest.raises(LinkClosed):
        at.command("AT")


def test_reply_prefix() -> None:
    assert reply_prefix("AT+CMGL=4") == "+CMGL"
    assert reply_prefix("AT^SYSCFG?") == "^SYSCFG"
    assert reply_prefix("ATE0") is None


def test_prompt_that_never_comes_is_cancelled_with_escape(wired) -> None:
    port, at, _ = wired
    with pytest.raises(AtTimeout):
        at.send_pdu(16, "0011", 0.1, 0.1)
    assert port.written[-1] == b"\x1b" and b"0011\x1a" not in port.written
