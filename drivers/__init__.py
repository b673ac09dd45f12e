"""Drivers: I/O only (serial GSM modems, Telegram, the simulator)."""
