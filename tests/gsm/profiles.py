"""Quirk profiles of real modems, as data: what the emulator does differently per model.

The quirks come from field reports (see /work/shared/FIELD-NOTES.md): Wavecom answers `AT+CPIN?` without
`OK` and says `+CME ERROR: 515` while starting; Huawei sticks say `COMMAND NOT SUPPORT` and chatter
`^RSSI`/`^BOOT`, and want USSD codes and give USSD answers as GSM 7-bit packed hex (ArchWiki "Huawei E1550
3G modem", hsmr.cc "Huawei E173"); the E3372 answers in UCS-2 hex; SIM800 announces `RDY … SMS Ready` after power-up; Quectel EC25 registers on LTE
(`+CEREG`) and keeps messages in `ME`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Profile:
    name: str
    manufacturer: str
    model: str
    revision: str = "1.0"
    imei: str = "867000000000001"
    imsi: str = "510100000000001"
    first_index: int = 1  # Huawei numbers SIM slots from 0, most others from 1
    capacity: int = 30
    storage: str = "SM"
    boot_lines: tuple[str, ...] = ()  # said after power-up / reboot
    sim_busy_code: int = 14  # answered to SIM commands right after power-up
    sim_busy_answers: int = 0  # how many SIM commands get it
    cpin_without_ok: bool = False
    unsupported: frozenset[str] = frozenset()  # command heads refused with `unsupported_reply`
    unsupported_reply: str = "ERROR"
    noise: tuple[str, ...] = ()  # unsolicited chatter, also injected inside replies
    creg: str = "0,1"  # AT+CREG? while registered
    cereg: str | None = None  # AT+CEREG? while registered; None: command unknown
    operator: str = "TELKOMSEL"
    cscs: str = "IRA"  # TE character set after power-up
    ussd_request: str = "plain"  # how AT+CUSD wants the code: plain text, or GSM 7-bit "packed" hex
    ussd_answer: str = "text"  # how it hands over a GSM 7-bit answer: text (in the TE charset), packed, ucs2
    extra: dict = field(default_factory=dict)


PROFILES: dict[str, Profile] = {
    "huawei-e173": Profile(
        "huawei-e173", "huawei", "E173", "11.126.16.04.00", first_index=0,
        noise=("^RSSI:17", "^BOOT:20824914,0,0,0,72", "^MODE:3,2", "^DSFLOWRPT:00000A,00000000,00000000"),
        unsupported=frozenset({"AT+CMMS", "AT+CEREG"}), unsupported_reply="COMMAND NOT SUPPORT",
        sim_busy_answers=2, ussd_request="packed", ussd_answer="packed"),
    "huawei-e3372": Profile(
        "huawei-e3372", "huawei", "E3372", "22.200.15.00.00", first_index=0,
        noise=("^HCSQ:\"LTE\",54,45,130,30", "^RSSI:20"), cereg="0,1", creg="0,0",
        unsupported=frozenset({"AT+CMMS"}), unsupported_reply="COMMAND NOT SUPPORT", ussd_answer="ucs2"),
    "sim800": Profile(
        "sim800", "SIMCOM_Ltd", "SIMCOM_SIM800L", "1418B04SIM800L24",
        boot_lines=("RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"), sim_busy_answers=1),
    "quectel-ec25": Profile(
        "quectel-ec25", "Quectel", "EC25", "EC25EFAR06A06M4G", storage="ME", capacity=255,
        boot_lines=("RDY",), noise=("+QIND: SMS DONE", "+QIND: PB DONE"), creg="0,2", cereg="0,1", cscs="GSM"),
    "wavecom": Profile(
        "wavecom", "WAVECOM MODEM", "MULTIBAND  900E  1800", "641b09gg.Q2403A",
        cpin_without_ok=True, sim_busy_code=515, sim_busy_answers=2, noise=("+WIND: 4",),
        unsupported=frozenset({"AT+CMMS", "AT+CEREG"})),
}
