"""A process that runs the Android driver until it is killed (the crash test): DB_URL GATEWAY_URL KEY."""

from __future__ import annotations

import sys
import time

from absensi.drivers.android import Gateways, GatewaySettings
from absensi.engine.store import Store


def main() -> None:
    db_url, gateway_url, key = sys.argv[1:4]
    store = Store(db_url)
    settings = GatewaySettings(signing_key=key, connect_timeout=1.0, request_timeout=60.0, claim_interval=0.05)
    Gateways([gateway_url], store, store, listen="127.0.0.1:0", settings=settings).start()
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
