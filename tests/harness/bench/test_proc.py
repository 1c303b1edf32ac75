"""The process-tree sampler sees a busy child's CPU time and memory."""

from __future__ import annotations

import subprocess
import sys
import time

from harness.bench.proc import TreeSampler, tree

BUSY = ("import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'x = bytearray(60 * 2**20)\\n"
        "import time\\nt = time.time()\\nwhile time.time() - t < 3: pass'])\n"
        "child.wait()\n")


def test_sampler_counts_a_busy_grandchild() -> None:
    """A child that spins one core for 3 s shows about one core and its 60 MB of memory."""
    proc = subprocess.Popen([sys.executable, "-c", BUSY])
    sampler = TreeSampler(proc.pid, interval=0.1)
    sampler.start()
    time.sleep(1.0)
    assert len(tree(proc.pid)) == 2  # the parent and its spinning child
    proc.wait(30)
    usage = sampler.stop()
    assert usage.processes == 2
    assert 0.3 < usage.cpu_cores <= 1.2, usage
    assert usage.peak_rss_mb > 60, usage
