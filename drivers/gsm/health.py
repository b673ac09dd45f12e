"""What a running modem worker knows about its modem, for `/status`, `absensi status` and the alerts (SPEC §9).

`ModemHealth` is a snapshot: the worker refreshes its own copy between sends (signal, registration,
storage, operator every `health_interval`; send and receive times and failures as they happen; the pulsa
when a balance check answers) and `ModemPool.health()` hands out copies. `as_dict()` gives JSON types only
(times as ISO 8601 strings), for whoever publishes it in the database. Thresholds are not decided here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime

# `<stat>` of +CREG/+CGREG/+CEREG (3GPP TS 27.007 §7.2, §10.1.19): 1 home, 5 roaming are registered.
REGISTRATION_NAMES = {0: "not registered", 1: "home network", 2: "searching", 3: "denied", 4: "unknown",
                      5: "roaming", 6: "home network (SMS only)", 7: "roaming (SMS only)",
                      8: "emergency only", 9: "home network (CSFB not preferred)",
                      10: "roaming (CSFB not preferred)"}
REGISTERED_STATES = frozenset({1, 5, 6, 7, 9, 10})
ROAMING_STATES = frozenset({5, 7, 10})
# Order in which a state is the more telling one when the domains disagree (registered beats denied beats
# searching beats nothing).
_RANK = {1: 9, 6: 9, 9: 9, 5: 8, 7: 8, 10: 8, 3: 5, 2: 4, 8: 3, 4: 2, 0: 1}

# AT+CSQ <rssi> → bars: 0–1 (≤ -111 dBm) none, 2–9 marginal, 10–14 ok, 15–19 good, 20–31 excellent.
_BARS = ((20, 4), (15, 3), (10, 2), (2, 1), (0, 0))


def rssi_dbm(rssi: int | None) -> int | None:
    """`AT+CSQ` <rssi> 0..31 → dBm (-113 + 2·rssi, TS 27.007 §8.5); 99 or out of range → None (unknown)."""
    if rssi is None or not 0 <= rssi <= 31:
        return None
    return -113 + 2 * rssi


def rssi_bars(rssi: int | None) -> int | None:
    """0–4 bars, as phones show them; None when the modem does not know (99)."""
    if rssi is None or not 0 <= rssi <= 31:
        return None
    return next(bars for floor, bars in _BARS if rssi >= floor)


def best_registration(states: dict[str, int]) -> int | None:
    """The most telling `<stat>` over the domains a modem reported (CREG, CGREG, CEREG): an LTE stick may
    be registered on CEREG only, and SMS still go."""
    if not states:
        return None
    return max(states.values(), key=lambda s: _RANK.get(s, 0))


@dataclass(slots=True)
class ModemHealth:
    """One modem as its worker sees it. Times are the pool's clock (timezone-aware UTC)."""

    port: str
    state: str = "starting"  # starting, ready, no-network, reopening, hung, sim-locked, stopped
    operator: str | None = None  # as AT+COPS? names it
    mcc_mnc: str | None = None  # serving network (AT+COPS numeric) or else the SIM's home (IMSI prefix)
    imsi: str | None = None
    signal_rssi: int | None = None  # AT+CSQ 0..31; None = unknown (99)
    signal_dbm: int | None = None
    signal_bars: int | None = None  # 0..4
    registration: str = "unknown"  # REGISTRATION_NAMES of the best domain
    registered: bool = False
    roaming: bool = False
    network_states: dict[str, int] = field(default_factory=dict)  # {"CREG": 1, "CGREG": 1, "CEREG": 0}
    sim_used: int | None = None  # AT+CPMS? of the storage in use
    sim_total: int | None = None
    last_send: datetime | None = None  # a part the modem accepted
    last_receive: datetime | None = None  # an SMS taken from the modem into the inbox
    sends_failed_today: int = 0  # sends the modem refused or lost (+CMS ERROR, time-out), local day
    consecutive_failures: int = 0  # the same, since the last accepted part
    pulsa: int | None = None  # rupiah, from the last balance answer the pattern could read
    pulsa_at: datetime | None = None
    pulsa_text: str | None = None  # the operator's answer as decoded
    last_error: str | None = None
    last_error_at: datetime | None = None
    checked_at: datetime | None = None  # when signal/registration/storage were last read
    failures_day: date | None = None  # the day sends_failed_today counts

    def copy(self) -> ModemHealth:
        return replace(self, network_states=dict(self.network_states))

    def as_dict(self) -> dict[str, object]:
        """JSON types only: times as ISO 8601 strings, everything else str/int/bool/None/dict."""
        out: dict[str, object] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            out[item.name] = value.isoformat() if isinstance(value, (datetime, date)) else (
                dict(value) if isinstance(value, dict) else value)
        return out

    # ----------------------------------------------------------------------------------- updates

    def set_signal(self, rssi: int | None) -> None:
        self.signal_rssi = rssi if rssi is not None and 0 <= rssi <= 31 else None
        self.signal_dbm, self.signal_bars = rssi_dbm(self.signal_rssi), rssi_bars(self.signal_rssi)

    def set_registration(self, states: dict[str, int]) -> None:
        self.network_states = dict(states)
        best = best_registration(states)
        self.registration = REGISTRATION_NAMES.get(best, str(best)) if best is not None else "unknown"
        self.registered = best in REGISTERED_STATES
        self.roaming = best in ROAMING_STATES

    def sent(self, now: datetime) -> None:
        self.last_send, self.consecutive_failures = now, 0

    def failed(self, now: datetime, today: date, reason: str) -> None:
        if self.failures_day != today:
            self.failures_day, self.sends_failed_today = today, 0
        self.sends_failed_today += 1
        self.consecutive_failures += 1
        self.error(now, reason)

    def roll_day(self, today: date) -> None:
        """A new local day starts the count of today's failures afresh."""
        if self.failures_day != today:
            self.failures_day, self.sends_failed_today = today, 0

    def error(self, now: datetime, reason: str) -> None:
        self.last_error, self.last_error_at = reason, now
