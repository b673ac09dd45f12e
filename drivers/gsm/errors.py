"""Typed modem errors with the meaning of their codes (3GPP TS 27.007 §9.2, TS 27.005 §3.2.5).

A `+CMS ERROR: 42` in a log means nothing to a school's IT teacher; "congestion (transient)" does, and the
send loop decides retry-or-give-up from the same table.
"""

from __future__ import annotations

CME_MEANINGS = {
    0: "phone failure", 3: "operation not allowed", 4: "operation not supported", 10: "SIM not inserted",
    11: "SIM PIN required", 12: "SIM PUK required", 13: "SIM failure", 14: "SIM busy", 15: "SIM wrong",
    16: "incorrect password", 17: "SIM PIN2 required", 18: "SIM PUK2 required", 20: "memory full",
    21: "invalid index", 22: "not found", 23: "memory failure", 30: "no network service", 31: "network timeout",
    32: "network not allowed, emergency calls only", 100: "unknown error", 515: "please wait, init in progress",
}

CMS_MEANINGS = {
    1: "unassigned (unallocated) number", 8: "operator determined barring", 10: "call barred",
    21: "short message transfer rejected", 27: "destination out of service", 28: "unidentified subscriber",
    29: "facility rejected", 30: "unknown subscriber", 38: "network out of order", 41: "temporary failure",
    42: "congestion", 47: "resources unavailable", 50: "requested facility not subscribed",
    69: "requested facility not implemented", 96: "invalid mandatory information", 111: "protocol error",
    300: "ME failure", 301: "SMS service of ME reserved", 302: "operation not allowed",
    303: "operation not supported", 304: "invalid PDU mode parameter", 310: "SIM not inserted",
    311: "SIM PIN required", 313: "SIM failure", 314: "SIM busy", 315: "SIM wrong", 320: "memory failure",
    321: "invalid memory index", 322: "memory full", 330: "SMSC address unknown", 331: "no network service",
    332: "network timeout", 500: "unknown error",
}

# Codes after which the same message may well go through later; anything else is about this message or
# this number and will not improve by repeating it.
CMS_TRANSIENT = frozenset({38, 41, 42, 47, 300, 314, 320, 331, 332, 500})
CMS_PERMANENT = frozenset({1, 8, 10, 21, 27, 28, 29, 30, 50, 69, 96, 111, 301, 302, 303, 304, 310, 311, 313,
                           315})


class ModemError(Exception):
    """Anything the modem or the line did wrong."""


class LinkClosed(ModemError):
    """The port went away (USB unplugged, pty closed) or was closed by us."""


class AtTimeout(ModemError):
    """No final result code within the command's timeout."""


class CommandError(ModemError):
    """A plain `ERROR` (or a vendor's 'COMMAND NOT SUPPORT'): the modem refused without saying why."""

    def __init__(self, command: str, line: str = "ERROR") -> None:
        super().__init__(f"{command}: {line}")
        self.command, self.line = command, line


class CmeError(CommandError):
    """`+CME ERROR: <n>`: equipment/SIM/network trouble."""

    def __init__(self, command: str, code: int) -> None:
        self.code, self.meaning = code, CME_MEANINGS.get(code, "vendor-specific error")
        super().__init__(command, f"+CME ERROR: {code} ({self.meaning})")


class CmsError(CommandError):
    """`+CMS ERROR: <n>`: a message service failure; `transient` says whether retrying makes sense."""

    def __init__(self, command: str, code: int) -> None:
        self.code, self.meaning = code, CMS_MEANINGS.get(code, "vendor-specific error")
        self.transient = code not in CMS_PERMANENT
        kind = "transient" if self.transient else "permanent"
        super().__init__(command, f"+CMS ERROR: {code} ({self.meaning}, {kind})")


class SimLocked(ModemError):
    """The SIM wants a PIN we do not have, or a PUK: a person must act."""


def parse_error(command: str, line: str) -> CommandError:
    """Turn a final error line into its typed exception (text-form errors keep their text)."""
    head, _, tail = line.partition(":")
    tail = tail.strip()
    if head.endswith("+CME ERROR") and tail.isdigit():
        return CmeError(command, int(tail))
    if head.endswith("+CMS ERROR") and tail.isdigit():
        return CmsError(command, int(tail))
    return CommandError(command, line)
