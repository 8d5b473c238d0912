"""The README's Reliability section is the one the corpus generates (so its count is never typed by hand)."""

from __future__ import annotations

from tests.hostile.count import section
from tests.paths import PROJECT


def test_readme_reliability_section_matches_the_corpus() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    expected = section()
    assert expected in readme, ("README.md's Reliability section is out of date; replace it with the output of "
                                "`python -m tests.hostile.count`")


def test_the_corpus_is_well_past_the_issue() -> None:
    from tests.hostile.count import counts

    found = counts()
    assert all(found.values()), found  # every surface has cases
    assert sum(found.values()) > 2 * 67  # issue #16 listed 67 failures; the corpus goes well past them
