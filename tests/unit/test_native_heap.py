"""console/core/native_heap.py: on glibc the console's threads share one malloc heap and a snapshot's freed
memory goes back to the system; elsewhere both do nothing, without failing."""

from __future__ import annotations

import subprocess
import sys

import pytest
from standardiste.console.core import native_heap

GLIBC = sys.platform.startswith("linux") and native_heap._glibc() is not None


@pytest.mark.skipif(not GLIBC, reason="the C library is not glibc: nothing to share or trim")
def test_a_heap_freed_of_big_blocks_is_trimmed_back_to_the_system() -> None:
    probe = (
        "import ctypes, gc, psutil\n"
        "from standardiste.console.core.native_heap import give_back, share_one_heap\n"
        "assert share_one_heap()\n"
        "blocks = [ctypes.create_string_buffer(4000) for _ in range(20000)]\n"  # 80 MB from malloc
        "keep = blocks[-1]\n"  # the heap's top stays in use: free() alone cannot shrink it
        "del blocks\n"
        "gc.collect()\n"
        "before = psutil.Process().memory_info().rss\n"
        "trimmed = give_back()\n"
        "print(trimmed, (before - psutil.Process().memory_info().rss) // 2**20)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    trimmed, megabytes = result.stdout.split()
    assert trimmed == "True"
    assert int(megabytes) > 40  # of the 80 MB freed, resident until trimmed


def test_without_glibc_both_are_no_ops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native_heap, "_glibc", lambda: None)
    assert native_heap.share_one_heap() is False
    assert native_heap.give_back() is False


def test_the_program_shares_one_heap_from_its_start() -> None:
    probe = (
        "import threading\n"
        "from standardiste.console.core import native_heap\n"
        "calls = []\n"
        "native_heap.share_one_heap = lambda: calls.append(threading.active_count()) or True\n"
        "from standardiste.__main__ import main\n"
        "try:\n"
        "    main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(calls)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.split()[-1] == "[1]"  # once, while the main thread was the only one
