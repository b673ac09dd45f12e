"""Peak RSS of `absensi demo` (target < 150 MB), measured on a child process.

    python bench/demo_memory.py
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        begin = time.perf_counter()
        subprocess.run([sys.executable, "-m", "absensi.engine.app.cli", "demo", "--out", tmp], check=True,
                       stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - begin
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"absensi demo: peak RSS {peak_mb:.0f} MB (target < 150 MB), wall time {elapsed:.1f} s")


if __name__ == "__main__":
    main()
