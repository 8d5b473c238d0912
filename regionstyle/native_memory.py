"""How the C library's allocator treats the optimiser's tensors: kept between evaluations, given back
between scales.

Every evaluation allocates and frees the same few hundred megabytes of activations. By default glibc hands
a freed block at the top of its heap back to the kernel once more than about twice its (adaptive) mmap
threshold is free there, and serves large blocks by ``mmap``: the next evaluation then touches fresh pages,
each one a page fault that the kernel zero-fills. A 512 px paintings run took 2.3 million faults and 7.4 s
of system time so; keeping freed memory in the heap during a scale, 0.34 million and 1.8 s
(benchmarks/README.md, "Page faults: freed activations kept for the next evaluation").
:func:`release_freed_memory` still gives it all back between scales and windows.

Everything here is a no-op where the C library lacks the call (macOS, Windows, musl).
"""

from __future__ import annotations

import ctypes
import functools

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks above this still come from (and go straight back to) mmap: the photo and masks of a print run, and
# the largest activations (MobileNetV2's 32-channel stem at 1024 px is about 100 MB). 256 MB at 1024 px
# halved the remaining faults but took 0.13 GB more peak memory for no measurable time.
MMAP_THRESHOLD_BYTES = 64 << 20
# Free memory at the heap's top above this goes back to the kernel at once: a 1024 px evaluation frees a
# few hundred megabytes at a time, and with a 256 MB trim threshold the 512 px run still took 1.4
# million faults.
TRIM_THRESHOLD_BYTES = 1 << 30


@functools.lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Keep freed blocks of up to MMAP_THRESHOLD_BYTES in the heap for reuse (the process's setting, set
    once); returns whether the C library took it."""
    mallopt = _libc_function("mallopt")
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD,
                                                                                   TRIM_THRESHOLD_BYTES))


def release_freed_memory() -> None:
    """Hand the memory of freed tensors back to the system (glibc keeps it for reuse otherwise).

    Between windows and scales the process drops gigabytes of activations; without this its resident size
    only grew, window after window (2048 px: 2.5 -> 3.3 GB held between windows; 1.1-1.3 GB with it,
    measured).
    """
    trim = _libc_function("malloc_trim")
    if trim is not None:
        trim(0)


@functools.lru_cache(maxsize=None)
def _libc_function(name: str):
    try:
        return getattr(ctypes.CDLL(None), name)
    except (AttributeError, OSError, TypeError):  # TypeError: Windows loads no library by the name None
        return None
