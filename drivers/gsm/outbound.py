"""Sending one outbox item over one modem, and deciding what a failure means for the outbox row.

Only this module calls `outbox.handing/part_sent/sent/retry/failed`. The rules that keep parents from
getting the same SMS twice: a part the modem accepted is never sent again (progress is kept per item in
memory while a transient error is retried, and in the outbox row for a crash); before each part is written
to the modem the row says so (`handing`), so after a crash only the part that was in the modem's hands at
that instant can go out a second time — the window is one `+CMGS`, as small as the modem allows.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from loguru import logger

from absensi.engine.ports import Outbox, OutboxItem

from .errors import AtTimeout, CmsError, CommandError, LinkClosed, ModemError
from .pdu import SubmitPdu, encode_submit
from .settings import ModemSettings

_PHONE = re.compile(r"\+?[0-9]{3,20}")


class ModemLost(ModemError):
    """The modem stopped answering or its port vanished: the worker must reopen it."""


class ModemHung(ModemLost):
    """The port is there but the modem stopped answering."""


class CannotSend(ModemError):
    """The modem, not the message, is the problem (no network service, no SMSC): stop claiming work."""


MODEM_LEVEL_CMS = frozenset({330, 331})  # SMSC address unknown, no network service


@dataclass(slots=True)
class SendContext:
    """What sending needs besides the modem: the outbox, time, policy, and the parts already accepted."""

    outbox: Outbox
    clock: Callable[[], datetime]
    settings: ModemSettings
    modem_id: str  # see modem_key
    # item id -> native refs (`<modem id>/<mr>`) of the parts already accepted, by any modem of the pool.
    # Shared: another modem taking the item over sends only the remaining parts. The phone cannot join
    # parts from two SIMs, so the reader then sees two pieces — never a part twice (SPEC §8).
    progress: dict[int, list[str]]
    name: str = ""  # the port, for log lines
    # told of each part the modem accepted, and of each send the modem refused or lost (not of messages
    # that never reach it: a bad number, too long) — the worker's health counts them
    on_sent: Callable[[], None] = lambda: None
    on_failure: Callable[[str], None] = lambda _reason: None


def modem_key(url: str, imsi: str | None = None) -> str:
    """Short, stable id of a modem for message references (the outbox keeps at most 200 characters for the
    references of up to 10 parts): the tail of the SIM's IMSI — it follows the SIM across ports — or else a
    hash of the port path."""
    if imsi and imsi.isdigit():
        return imsi[-10:]
    return "p" + hashlib.sha1(url.encode("utf-8")).hexdigest()[:8]


def native_ref(modem_id: str, reference: int) -> str:
    """`<modem id>/<mr:03d>`: unique per modem (references wrap at 256), never a substring of another."""
    return f"{modem_id}/{reference:03d}"


def build_parts(item: OutboxItem, settings: ModemSettings) -> list[SubmitPdu]:
    """Parts for one item. The concatenation reference comes from the item id, so a resumed send uses the
    same reference and the phone still joins the parts."""
    return encode_submit(item.to, item.text, status_report=settings.status_reports, validity=settings.validity,
                         concat_ref=item.id & 0xFF)


def backoff(attempts: int, settings: ModemSettings) -> float:
    return settings.policy.retry.delay(attempts)


def send_item(modem, item: OutboxItem, ctx: SendContext, pace: Callable[[], None] = lambda: None) -> int:
    """Send `item`; record the outcome. Returns the number of parts handed to the modem.

    Raises `ModemLost` when the modem must be reopened; the item is then already scheduled for a quick
    retry, which any healthy modem may take.
    """
    if not _PHONE.fullmatch(item.to):
        ctx.outbox.failed(item.id, ctx.clock(), f"not a phone number: {item.to!r}")
        return 0
    try:
        parts = build_parts(item, ctx.settings)
    except ValueError as exc:
        ctx.outbox.failed(item.id, ctx.clock(), f"cannot encode: {exc}")
        return 0
    if len(parts) > ctx.settings.max_parts:
        reason = f"too long: {len(parts)} SMS parts, the limit is {ctx.settings.max_parts}"
        ctx.outbox.failed(item.id, ctx.clock(), reason)
        return 0
    done = ctx.progress.get(item.id) or list(item.parts_sent)
    ctx.progress[item.id] = done
    if done and any(not ref.startswith(f"{ctx.modem_id}/") for ref in done):
        logger.warning("{}: outbox #{}: {} part(s) went out from another SIM; sending the rest from this one",
                       ctx.name, item.id, len(done))
    sent_now = 0
    try:
        if len(parts) - len(done) > 1:
            modem.try_cmd("AT+CMMS=1")  # keep the radio link up between parts (27.005 §3.5.6)
        for number in range(len(done), len(parts)):
            pace()
            ctx.outbox.handing(item.id, number, ctx.clock())
            done.append(native_ref(ctx.modem_id, modem.send(parts[number])))
            sent_now += 1
            ctx.on_sent()
            if number < len(parts) - 1:
                ctx.outbox.part_sent(item.id, done[-1])
    except CmsError as exc:
        ctx.on_failure(exc.line)
        if exc.code in MODEM_LEVEL_CMS:
            _retry(item, ctx, exc.line, ctx.settings.pause_after_loss)
            raise CannotSend(exc.line) from exc
        _on_cms_error(item, exc, ctx)
        return sent_now
    except (AtTimeout, LinkClosed) as exc:
        ctx.on_failure(f"modem lost while sending: {exc}")
        _retry(item, ctx, f"modem lost while sending: {exc}", ctx.settings.pause_after_loss)
        raise (ModemHung if isinstance(exc, AtTimeout) else ModemLost)(str(exc)) from exc
    except CommandError as exc:
        ctx.on_failure(f"modem refused: {exc}")
        _retry(item, ctx, f"modem refused: {exc}", backoff(item.attempts, ctx.settings))
        return sent_now
    refs = ",".join(done)
    ctx.outbox.sent(item.id, ctx.clock(), native_id=refs)
    ctx.progress.pop(item.id, None)
    logger.info("{}: sent outbox #{} in {} part(s), refs {}", ctx.name, item.id, len(parts), refs)
    return sent_now


def _on_cms_error(item: OutboxItem, exc: CmsError, ctx: SendContext) -> None:
    if not exc.transient:
        ctx.progress.pop(item.id, None)
        ctx.outbox.failed(item.id, ctx.clock(), f"rejected: {exc.line}")
        logger.warning("{}: outbox #{} failed for good: {}", ctx.name, item.id, exc.line)
        return
    _retry(item, ctx, exc.line, backoff(item.attempts, ctx.settings))


def _retry(item: OutboxItem, ctx: SendContext, reason: str, delay: float) -> None:
    now = ctx.clock()
    if ctx.settings.policy.exhausted(item.attempts):
        ctx.progress.pop(item.id, None)
        ctx.outbox.failed(item.id, now, f"gave up after {item.attempts + 1} attempts: {reason}")
        logger.warning("{}: outbox #{} failed after {} attempts: {}", ctx.name, item.id, item.attempts + 1,
                       reason)
        return
    ctx.outbox.retry(item.id, now, reason, now + timedelta(seconds=delay))
    logger.info("{}: outbox #{} will be retried in {:.0f} s: {}", ctx.name, item.id, delay, reason)
