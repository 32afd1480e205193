"""`python -m tessera.docs_reference [--check]`: write docs/cli.md and docs/api.md from the
code (cli/reference.py, web/api/reference.py), or with --check say which are out of date."""

from __future__ import annotations

import sys
from pathlib import Path

from tessera.cli import reference as cli_reference
from tessera.web.api import reference as api_reference

DOCS = Path(__file__).resolve().parent.parent / "docs"


def generated() -> dict[Path, str]:
    return {
        DOCS / "cli.md": cli_reference.markdown(),
        DOCS / "api.md": api_reference.markdown(api_reference.served_document()),
    }


def main(arguments: list[str]) -> int:
    check = arguments == ["--check"]
    if arguments and not check:
        print("usage: scripts/docs-reference [--check]", file=sys.stderr)
        return 2
    stale = []
    for path, text in generated().items():
        current = path.read_text() if path.exists() else None
        if current == text:
            continue
        stale.append(path.name)
        if not check:
            path.write_text(text)
    if check and stale:
        print(f"out of date: {', '.join(stale)}; run scripts/docs-reference", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
