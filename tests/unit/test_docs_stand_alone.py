"""The README and the guides stand alone: they cite no file outside the repository (the
project's own design notes and contract live elsewhere; docs/interface.md is the copy of
the contract that ships), and every file or folder of the checkout they point at exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OUTSIDE = re.compile(r"\.\./shared|shared/INTERFACE|DESIGN\.md|INTERFACE\.md")
# Paths in backquotes that name a file of the checkout: `tessera/...`, `docs/x.md`, `scripts/...`.
CHECKOUT_PATH = re.compile(r"`((?:tessera|docs|scripts|examples|tests|bench)/[\w./-]*\w)`")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda document: document.name)
def test_no_file_outside_the_repository_is_cited(document: Path) -> None:
    found = OUTSIDE.findall(document.read_text())
    assert not found, f"{document.name} cites {found}: say it in the document itself"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda document: document.name)
def test_paths_of_the_checkout_named_in_backquotes_exist(document: Path) -> None:
    named = [path for path in CHECKOUT_PATH.findall(document.read_text()) if "node_modules" not in path]  # installed
    missing = [path for path in named if not (ROOT / path).exists()]
    assert not missing, f"{document.name} names {missing}, which are not in the repository"
