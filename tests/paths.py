"""Where the tests find the project's own files and the shared real data (``../shared/data``)."""

from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = PROJECT / "samples"
BENCHMARKS = PROJECT / "benchmarks"
SHARED_DATA = PROJECT.parent / "shared" / "data"
