"""Timeouts and pacing of the driver, in one place so tests can shrink them and operators can read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from absensi.engine.ports import DeliveryPolicy


@dataclass(frozen=True, slots=True)
class ModemSettings:
    baudrate: int = 115200
    command_timeout: float = 5.0  # ordinary commands
    list_timeout: float = 30.0  # +CMGL over a full SIM
    prompt_timeout: float = 10.0  # AT+CMGS → '>'
    send_timeout: float = 40.0  # PDU → +CMGS: <mr>; operators take 2–23 s (gammu uses 30 s)
    sim_busy_timeout: float = 30.0  # how long +CME ERROR: 14 after power-up is tolerated
    sim_busy_retry: float = 0.25  # asking AT+CPIN? again costs nothing: a SIM ready sooner is seen sooner
    pin_settle: float = 10.0  # after the PIN is accepted, how long the SIM may take to say READY
    register_timeout: float = 30.0  # at start-up; afterwards registration is re-checked by the health loop
    storage: str = "SM"
    poll_interval: float = 30.0  # +CMGL even without +CMTI: modems lose notifications
    health_interval: float = 60.0  # AT+CREG?/AT+CMGF? when otherwise idle
    claim_interval: float = 1.0  # how often an idle worker asks the outbox for work
    reassembly_timeout: timedelta = timedelta(minutes=10)
    status_reports: bool = True
    validity: int | None = 0xAA  # relative TP-VP: 4 days
    # transient send failures (retry), the port gone or the modem hung (reconnect), attempts before a
    # message is failed: the one policy of every driver, from settings.yaml `delivery`
    policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    max_parts: int = 10  # many modems and operators refuse longer concatenations
    ussd_timeout: float = 30.0  # AT+CUSD → the network's +CUSD answer (operators take seconds to tens of seconds)
    ussd_packed: bool | None = None  # send USSD codes GSM 7-bit packed (Huawei); None: plain, packed if refused
    ussd_charset: str | None = None  # AT+CSCS to set before USSD ("GSM", "IRA", "UCS2"); None: leave it
    pause_after_loss: float = 5.0  # when a modem hangs mid-send, its item waits this long before another takes it
