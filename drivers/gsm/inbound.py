"""From stored PDUs to `InboundMessage`s: decoding, multipart reassembly, stable source ids.

Parts of a concatenated SMS stay on the SIM until the whole message is committed, so a crash while parts
are waiting loses nothing: the next `+CMGL` finds them again. After `reassembly_timeout` (or when the SIM
is full and the oldest group blocks new messages) what arrived is handed over, marked incomplete.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from absensi.engine.messages import Channel, InboundMessage

from .pdu import Deliver


@dataclass(frozen=True, slots=True)
class Ready:
    """A message ready for the inbox, and the SIM indexes to delete once it is committed."""

    message: InboundMessage | None  # None: a leftover copy of a committed part, only to be deleted
    indexes: tuple[int, ...]
    part_keys: tuple[tuple, ...] = ()


@dataclass(slots=True)
class _Group:
    sender: str
    total: int
    first_seen: datetime
    parts: dict[int, Deliver] = field(default_factory=dict)
    pdus: dict[int, str] = field(default_factory=dict)  # seq -> the PDU as read, kept with the message
    indexes: dict[int, set[int]] = field(default_factory=dict)  # seq -> SIM indexes holding that part


def source_id(sender: str, stamp: datetime, text: str) -> str:
    """Same SMS, same id — however often it is read; the inbox refuses the second copy."""
    digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]  # broken UTF-16 too
    return f"sms:{sender}:{stamp.isoformat()}:{digest}"


def to_message(sender: str, stamp: datetime, text: str, incomplete: bool = False, raw: str | None = None
               ) -> InboundMessage:
    return InboundMessage(channel=Channel.SMS, sender=sender, received_at=stamp,
                          source_id=source_id(sender, stamp, text), text=text, incomplete=incomplete, raw=raw)


class Reassembler:
    """Collects parts per (sender, reference, total); not thread-safe (one per worker)."""

    def __init__(self, timeout: timedelta, remember: int = 2048) -> None:
        self.timeout = timeout
        self._groups: dict[tuple, _Group] = {}
        self._done: OrderedDict[tuple, None] = OrderedDict()  # parts already committed
        self._remember = remember

    @property
    def waiting(self) -> int:
        return len(self._groups)

    def add(self, index: int, sms: Deliver, now: datetime, pdu: str = "") -> Ready | None:
        """Feed one stored message (`pdu`: its hex, kept raw in the inbox); returns a `Ready` when a
        message is complete."""
        stamp = sms.timestamp or now
        if sms.concat is None or sms.concat.total <= 1:
            return Ready(to_message(sms.sender, stamp, sms.text, raw=pdu or None), (index,))
        key = (sms.sender, sms.concat.ref, sms.concat.total)
        if (*key, sms.concat.seq, sms.timestamp) in self._done:
            return Ready(None, (index,))
        group = self._groups.setdefault(key, _Group(sms.sender, sms.concat.total, now))
        group.parts[sms.concat.seq] = sms
        group.pdus[sms.concat.seq] = pdu
        group.indexes.setdefault(sms.concat.seq, set()).add(index)
        if len(group.parts) == group.total:
            return self._finish(key, incomplete=False)
        return None

    def expire(self, now: datetime) -> list[Ready]:
        """Hand over every group older than the timeout, incomplete."""
        old = [k for k, g in self._groups.items() if now - g.first_seen >= self.timeout]
        return [self._finish(k, incomplete=True) for k in old]

    def flush_oldest(self) -> Ready | None:
        """Storage is full of waiting parts: give up waiting on the oldest group to make room."""
        if not self._groups:
            return None
        key = min(self._groups, key=lambda k: self._groups[k].first_seen)
        return self._finish(key, incomplete=True)

    def forget_index(self, index: int) -> None:
        """An index vanished from the SIM (deleted elsewhere); stop counting on it."""
        for group in self._groups.values():
            for indexes in group.indexes.values():
                indexes.discard(index)

    def _finish(self, key: tuple, incomplete: bool) -> Ready:
        group = self._groups.pop(key)
        seqs = sorted(group.parts)
        text = "".join(group.parts[s].text for s in seqs)
        first = group.parts[seqs[0]]
        stamp = first.timestamp or group.first_seen
        indexes = tuple(sorted(i for s in seqs for i in group.indexes[s]))
        part_keys = tuple((*key, s, group.parts[s].timestamp) for s in seqs)
        raw = ",".join(group.pdus.get(s, "") for s in seqs).strip(",") or None
        return Ready(to_message(group.sender, stamp, text, incomplete, raw), indexes, part_keys)

    def mark_done(self, ready: Ready) -> None:
        """After the commit: remember the parts, so a copy that failed to delete is not a new message."""
        for key in ready.part_keys:
            self._done[key] = None
        while len(self._done) > self._remember:
            self._done.popitem(last=False)
