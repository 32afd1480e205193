"""Every screenshot script's tour, run into a temporary folder: each page the docs show
(the console, the device pages, dynamic registration, login.png and consent.png, the
sample apps) is checked at 1280x800 and 390x844 by camera.py (axe-core's serious and
critical violations, faint field edges, a page wider than the window) as it is
photographed, and `take` raises with every finding. test_pages_browser.py does the same
for the pages-*.png it writes.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.e2e import (
    admin_screenshots,
    device_screenshots,
    registration_screenshots,
    sample_screenshots,
    screenshots,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# The script, and the screenshots it writes: the file names the docs link to.
TOURS = [
    (admin_screenshots, 18 * 2),
    (device_screenshots, 9 * 2),
    (registration_screenshots, 2 * 2),
    (screenshots, 2),
    (sample_screenshots, 8 * 2),
]


@pytest.mark.parametrize(("script", "count"), TOURS, ids=[script.__name__.rsplit(".", 1)[1] for script, _ in TOURS])
def test_every_page_photographed_for_the_docs_passes_the_checks_at_both_sizes(
    script: ModuleType, count: int, tmp_path: Path
) -> None:
    camera = script.take(tmp_path)  # raises AssertionError with the findings, if any
    assert len(camera.written) == count
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(path.name for path in camera.written)
    docs = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    assert all((docs / path.name).exists() for path in camera.written)  # the names the docs know
    sizes: dict[str, set[str]] = {}
    for where in camera.checked:
        page, size = where.rsplit(" at ", 1)
        sizes.setdefault(page, set()).add(size)
    assert all(seen == {"desktop", "phone"} for seen in sizes.values()), sizes  # each page at both sizes
