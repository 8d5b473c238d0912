"""The optimiser's allocator policy: freed activations are reused within a scale, not faulted in afresh
every evaluation, and given back to the system between scales."""

from __future__ import annotations

import subprocess
import sys

import pytest

from regionstyle import native_memory

pytestmark = pytest.mark.skipif(not native_memory._libc_function("mallopt"),
                                reason="the C library has no mallopt (not glibc)")

UNIT_MB = 8
ROUND_MB = (8, 16, 24, 32)  # tensors alive together, as an evaluation's activations are (each under 64 MB)
# A child process (the policy is the process's, set once) allocates a round of tensors and frees them,
# again and again as evaluations do, and prints the page faults that took after a few rounds to settle;
# then it holds thirty 8 MB tensors at once, frees them, and prints its resident size before and after
# release_freed_memory.
_CHILD = f"""
import resource, sys, torch
from regionstyle import native_memory
if sys.argv[1] == "kept":
    assert native_memory.keep_freed_memory()
def resident_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20
def evaluation():
    return [torch.ones(size << 18) for size in {ROUND_MB}]  # float32: written, then freed together
for _ in range(4):
    evaluation()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    evaluation()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
held = [torch.ones({UNIT_MB} << 18) for _ in range(30)]
del held
freed = resident_mb()
native_memory.release_freed_memory()
print(faults, freed, resident_mb())
"""


def _child(policy: str) -> tuple[int, float, float]:
    out = subprocess.run([sys.executable, "-c", _CHILD, policy], capture_output=True, text=True, check=True)
    faults, freed, released = out.stdout.split()[-3:]
    return int(faults), float(freed), float(released)


@pytest.fixture(scope="module")
def default_and_kept():
    return _child("default"), _child("kept")


def test_freed_tensors_are_reused_instead_of_faulted_in_again(default_and_kept):
    (default_faults, _, _), (kept_faults, _, _) = default_and_kept
    round_pages = (sum(ROUND_MB) << 20) // 4096
    # Over ten rounds the C library's default gives most of each round's memory back and faults it in
    # again (measured: about 70% of it every round); kept, the same pages serve every round.
    assert default_faults > 3 * round_pages
    assert kept_faults < 0.5 * round_pages


def test_what_is_kept_goes_back_to_the_system_when_released(default_and_kept):
    _, (_, freed, released) = default_and_kept
    assert freed - released > 0.7 * 30 * UNIT_MB
