"""Every claim has its doc page, with the sections a user needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnverify.claims import all_claims

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = (
    "## Theorem",
    "## Source",
    "## Preconditions",
    "## Check",
    "## Tolerance",
    "## Mutants caught",
)


@pytest.mark.parametrize("claim", sorted(all_claims()))
def test_claim_has_a_doc_page_with_every_section(claim):
    page = ROOT / "docs" / "claims" / f"{claim}.md"
    assert page.is_file(), f"missing {page}"
    text = page.read_text()
    assert text.startswith(f"# {claim}\n")
    for section in SECTIONS:
        assert section in text, f"{page.name} lacks {section}"
