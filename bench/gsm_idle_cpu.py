"""CPU used by the driver while idle with one modem (target < 1 % of a core).

The emulator runs in a child process, so the figure is the driver's alone: its reader thread, its worker
loop (outbox claim every second, +CMGL every 30 s, health check every 60 s) and the logging.
Usage: python bench/gsm_idle_cpu.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import resource
import time

from gsm_common import HostedModems, fakes
from loguru import logger

from absensi.drivers.gsm import ModemPool, ModemSettings


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--profile", default="huawei-e173")
    args = parser.parse_args()
    logger.remove()
    inbox_cls, outbox_cls = fakes()
    hosted = HostedModems([args.profile], {"noise_every": 5.0})
    pool = ModemPool(hosted.ports, inbox_cls(), outbox_cls(), settings=ModemSettings(register_timeout=5))
    pool.start()
    try:
        while pool.workers[0].state != "ready":
            time.sleep(0.1)
        time.sleep(1.0)
        cpu0, wall0 = cpu_seconds(), time.monotonic()
        time.sleep(args.seconds)
        cpu, wall = cpu_seconds() - cpu0, time.monotonic() - wall0
        commands = hosted.ask("stats")[0]["commands"]
    finally:
        pool.stop()
        hosted.close()
    print(f"idle {wall:.0f} s with one modem ({args.profile}, chatter every 5 s): driver CPU {cpu:.3f} s = "
          f"{100 * cpu / wall:.2f} % of one core; {commands} AT commands in total")


if __name__ == "__main__":
    main()
