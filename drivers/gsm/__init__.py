"""Serial GSM modem driver: SMS in and out through one or more modems (pyserial underneath).

`ModemPool` is what `absensi run --modem PORT…` starts: one worker thread per modem, all feeding the same
inbox and taking from the same outbox, so outbound work spreads over the healthy modems by itself.
Layers, bottom up: `link` (bytes ⇄ lines, unsolicited apart), `at` (commands, typed errors), `pdu`/`gsm7`
(the codec), `modem` (start-up and AT operations), `inbound`/`outbound` (what messages mean), `ussd` and
`operators` (balance checks), `health`/`monitor` (what each worker knows of its modem), `worker`.

For `/status` and the alerts (SPEC §9): `pool.health()` → one `ModemHealth` per modem (`.as_dict()` for
JSON); `pool.check_balance()` → one Future per modem, answered between sends, the amount then in
`health().pulsa`. `Modems` is another name of `ModemPool`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future
from datetime import UTC, datetime

from loguru import logger

from absensi.engine.messages import Channel
from absensi.engine.ports import DriverOptions, Inbox, Outbox

from .health import ModemHealth
from .settings import ModemSettings
from .ussd import UssdAnswer, UssdFailed, ussd
from .warm import WarmModem, warm_up
from .worker import ModemWorker

__all__ = ["ModemHealth", "ModemPool", "ModemSettings", "ModemWorker", "Modems", "UssdAnswer", "UssdFailed", "start",
           "ussd", "warm_up"]
DEVICE = "modem"  # what one address is, for the service's start-up line


def utc_now() -> datetime:
    return datetime.now(UTC)


class ModemPool:
    """Several modems, one worker each; see the module docstring."""

    def __init__(self, ports: list[str], inbox: Inbox, outbox: Outbox, *, pin: str | None = None,
                 clock: Callable[[], datetime] = utc_now, send_rate_per_min: float | None = None,
                 settings: ModemSettings | None = None, warm: Mapping[str, WarmModem] | None = None) -> None:
        if not ports:
            raise ValueError("at least one modem port is needed")
        self.outbox, self.clock = outbox, clock
        self.settings = settings or ModemSettings()
        progress: dict = {}  # shared: see outbound.SendContext.progress
        warm = dict(warm or {})  # modems already starting (warm.py), by port: each taken by one worker
        self.workers = [ModemWorker(port, inbox, outbox, clock=clock, settings=self.settings, pin=pin,
                                    send_rate_per_min=send_rate_per_min, progress=progress,
                                    warm=warm.pop(port, None)) for port in ports]

    def start(self) -> None:
        """Return items a crashed run left `sending` to the queue, then start every worker."""
        recovered = sum(self.outbox.recover(Channel.SMS, self.clock(), worker=w.name) for w in self.workers)
        if recovered:
            logger.warning("{} SMS were being sent when the last run stopped; they resume after the parts the "
                           "modem had accepted (a part being handed over at the crash may go out twice)", recovered)
        for worker in self.workers:
            worker.start()

    def stop(self, timeout: float = 10.0) -> None:
        for worker in self.workers:
            worker.request_stop()
        for worker in self.workers:
            worker.stop(timeout)

    def states(self) -> dict[str, str]:
        return {w.url: w.state for w in self.workers}

    def health(self) -> list[ModemHealth]:
        """Each modem's health, in the order of the ports (copies; any thread, never touches a port)."""
        return [w.health() for w in self.workers]

    def check_balance(self, code: str | None = None, pattern: str | None = None) -> list[Future[UssdAnswer]]:
        """Ask every modem's pulsa by USSD (see `ModemWorker.check_balance`); returns at once."""
        return [w.check_balance(code, pattern) for w in self.workers]


Modems = ModemPool


def start(addresses: list[str], inbox: Inbox, outbox: Outbox, options: DriverOptions) -> ModemPool:
    """The driver's entry point (`engine.ports.StartDriver`): one worker per serial port or pyserial URL."""
    warm = {a: w for a, w in options.warm.items() if isinstance(w, WarmModem)}  # begun by `warm_up`
    pool = ModemPool(addresses, inbox, outbox, pin=options.pin, clock=options.clock,
                     send_rate_per_min=options.rate_per_min, settings=ModemSettings(policy=options.policy),
                     warm=warm)
    pool.start()
    return pool
