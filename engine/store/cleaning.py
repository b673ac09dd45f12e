"""What a backend can store: inbound values cleaned at the inbox, the original kept as raw bytes.

PostgreSQL refuses NUL in text and JSON; no backend can encode a lone UTF-16 surrogate (a broken emoji
from a UCS-2 SMS) as UTF-8. An SMS may carry either. The cleaned text is what the engine reads; the
original stays in the row's payload (`raw`: the PDUs as hex, or `raw_text`: the text's bytes as hex), so
`absensi inbox` can show exactly what arrived.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ..messages import InboundMessage

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_SENDER = 64
MAX_SOURCE_ID = 200


def clean(text: str) -> str:
    """`text` without NUL, lone surrogates replaced by U+FFFD (valid surrogate pairs are already joined
    by Python's decoders, so anything left in that range is broken)."""
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def raw_hex(text: str) -> str:
    """The original text's bytes (UTF-8, surrogates passed through) as hex."""
    return text.encode("utf-8", "surrogatepass").hex()


def clean_value(value: Any) -> Any:
    """`clean` applied to every string inside a JSON-able value."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(k)): clean_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_value(v) for v in value]
    return value


def bounded_id(source_id: str) -> str:
    """A source id that fits its column; a longer one keeps its start and a hash of the whole."""
    cleaned = clean(source_id)
    if len(cleaned) <= MAX_SOURCE_ID and cleaned == source_id:
        return cleaned
    digest = hashlib.sha1(raw_hex(source_id).encode()).hexdigest()
    return f"{cleaned[: MAX_SOURCE_ID - 42]}#{digest}"


def inbox_values(msg: InboundMessage, payload: dict[str, Any]) -> dict[str, Any]:
    """The inbox row's column values for `msg`, storable on every backend."""
    text = clean(msg.text)
    payload = clean_value(payload)
    if text != msg.text and "raw" not in payload:
        payload["raw_text"] = raw_hex(msg.text)
    sender = clean(msg.sender)
    if len(sender) > MAX_SENDER:
        payload["raw_sender"] = raw_hex(msg.sender)
        sender = sender[:MAX_SENDER]
    return {"source_id": bounded_id(msg.source_id), "channel": str(msg.channel), "sender": sender, "text": text,
            "payload": payload, "received_at": msg.received_at}


def error_values(values: dict[str, Any], reason: str) -> dict[str, Any]:
    """A row the backend refused anyway: kept with only its raw bytes, as an error for `absensi inbox`."""
    payload = {k: v for k, v in values["payload"].items() if k in ("raw", "raw_text", "raw_sender")}
    if "raw" not in payload and "raw_text" not in payload:
        payload["raw_text"] = raw_hex(values["text"])
    return {**values, "text": "", "payload": payload, "status": "error", "error": reason}
