"""How operations facts read in Indonesian: device states, times, durations, sizes, SMS kinds.

The frames of every message are templates in the rules (`templates.yaml`); these are the words that fill
them, kept in one place so `/status`, the alerts, the daily summary and the SMS sheet say things alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from ..rules.smslen import rupiah

STATES = {
    "ready": "siap", "starting": "baru mulai", "no-network": "tidak ada jaringan", "reopening": "terputus",
    "down": "terputus", "hung": "macet (tidak menjawab)", "sim-locked": "SIM terkunci/PIN", "stopped": "berhenti",
    "refused": "menolak sandi", "stale": "tidak ada kabar", "searching": "mencari jaringan",
    "denied": "ditolak jaringan", "not registered": "belum terdaftar di jaringan", "unknown": "jaringan tidak diketahui",
    "emergency only": "hanya panggilan darurat",
}
REGISTRATION = {"home network": "terdaftar", "roaming": "terdaftar (roaming)",
                "home network (SMS only)": "terdaftar (SMS saja)", "roaming (SMS only)": "terdaftar (roaming, SMS saja)"}
CHANNELS = {"sms": "SMS", "telegram": "Telegram"}

# Outbox kinds of SMS (Turn.PRIORITY) as the admin reads them, in the order the SMS sheet lists them.
SMS_KINDS = {
    "alfa": "Pemberitahuan alfa/alasan ke ortu",
    "reply": "Konfirmasi/balasan ke ortu",
    "bridge": "Balasan guru (jembatan)",
    "registration": "Balasan pendaftaran (REG)",
    "help": "Balasan bantuan",
    "ack": "Tanda terima INFO",
    "alert": "Peringatan ke admin",
}


def state(word: str) -> str:
    return STATES.get(word, word)


def kind_label(kind: str) -> str:
    return SMS_KINDS.get(kind, kind)


def clock(moment: datetime, tz: tzinfo, now: datetime | None = None) -> str:
    """`07.10` today, `29/11 07.10` on another day (school time)."""
    local = moment.astimezone(tz)
    if now is not None and local.date() == now.astimezone(tz).date():
        return f"{local:%H.%M}"
    return f"{local:%d/%m %H.%M}"


def duration(span: timedelta) -> str:
    """`4 menit`, `2 jam 5 menit`, `3 hari 2 jam`."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} hari" + (f" {hours} jam" if hours else "")
    if hours:
        return f"{hours} jam" + (f" {minutes} menit" if minutes else "")
    return f"{minutes} menit"


def size(count: int | None) -> str:
    """`2,3 MB`; `tidak diketahui`."""
    if count is None:
        return "tidak diketahui"
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}".replace(".", ",")
    return f"{count} B"


def money(amount: int) -> str:
    return rupiah(amount)
