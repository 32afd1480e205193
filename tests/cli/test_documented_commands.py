"""Every shell command the README and the guides show works as written.

Each ```sh block of README.md and docs/*.md runs with `sh -e`, in order, in a fresh
temporary folder per document (so a guide's later blocks may use what its earlier ones
made), with the `tessera` command of this checkout on PATH and no TESSERA_* setting
inherited. A block that cannot run here (it starts a server, needs the network or a
PostgreSQL server, or is a synopsis with placeholders) is preceded by a comment saying
why, `<!-- not-run: REASON -->`; every such comment must give a reason.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e import harness

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_NOT_RUN = re.compile(r"<!--\s*not-run:(.*?)-->\s*$", re.DOTALL)


@dataclass(frozen=True)
class Block:
    line: int
    code: str
    not_run: str | None  # the reason given, or None when the block runs


def blocks(document: Path) -> list[Block]:
    text = document.read_text()
    found = []
    for match in _BLOCK.finditer(text):
        before = text[: match.start()].rstrip("\n")
        last_line = before.rsplit("\n", 1)[-1]
        marker = _NOT_RUN.search(last_line)
        found.append(
            Block(
                line=text.count("\n", 0, match.start()) + 1,
                code=match.group(1),
                not_run=marker.group(1).strip() if marker else None,
            )
        )
    return found


def documented() -> list[Path]:
    return [document for document in DOCUMENTS if blocks(document)]


def test_every_skipped_block_says_why() -> None:
    for document in DOCUMENTS:
        for block in blocks(document):
            if block.not_run is not None:
                assert len(block.not_run) >= 10, f"{document.name}:{block.line}: say why it is not run"
        text = document.read_text()
        for marker in re.finditer(r"<!--\s*not-run", text):
            after = text[marker.start() :].split("-->", 1)[-1]
            assert after.lstrip("\n").startswith("```sh"), (
                f"{document.name}: a not-run comment must come right before a ```sh block"
            )


def test_the_readme_opens_with_make_demo_and_make_test() -> None:
    first = blocks(ROOT / "README.md")[0]
    commands = [line.split("#")[0].strip() for line in first.code.splitlines()]
    assert commands[:2] == ["make demo", "make test"]


@pytest.mark.parametrize("document", documented(), ids=lambda document: document.name)
def test_documented_commands_work_as_written(document: Path, tmp_path: Path) -> None:
    env = harness.clean_env(None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    for block in blocks(document):
        if block.not_run is not None:
            continue
        done = subprocess.run(
            ["sh", "-e", "-c", block.code],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
        where = f"{document.name}, the block at line {block.line}"
        assert done.returncode == 0, f"{where} failed:\n{block.code}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        assert "Traceback" not in done.stderr, f"{where}:\n{done.stderr}"
