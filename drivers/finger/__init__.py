"""Fingerprint machines on the school's network (SPEC §10): the attendance log pulled live.

`zk.py` is our own client of the ZK protocol (ZKTeco and compatible machines; pyzk is not used: see the
README's dependency notes). `poller.py` runs one thread per machine that pulls its log every few minutes
and hands the records to a sink the application gives (engine/app/finger.py stores them as punches and wakes
the engine's cross-checks). Nothing here knows students or the database.
"""

from __future__ import annotations

from .poller import DevicePoller, FingerPollers, PullSink, start
from .zk import DEFAULT_PORT, Address, Record, ZkClient, ZkError, parse_address, split_address

__all__ = ["DEFAULT_PORT", "Address", "DevicePoller", "FingerPollers", "PullSink", "Record", "ZkClient", "ZkError",
           "parse_address", "split_address", "start"]
