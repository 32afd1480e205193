"""The sample apps `tessera demo` serves beside the server: the web app (the demo client's
callback) and the single-page app, both from the repository's examples/ folder.

They are samples to read and copy, so they live in examples/, not in the `tessera`
package, and use Authlib, a development dependency. `make demo` runs from a clone, where
examples/ sits beside tessera/ (uv installs the project in editable mode); an installation
without them still serves the demo, without the apps, and says so.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import tessera

REPOSITORY = Path(tessera.__file__).resolve().parent.parent
WEB_APP = REPOSITORY / "examples" / "web_app"


def web_app(issuer: str, client_id: str, client_secret: str, redirect_uri: str, spa_client_id: str) -> Any | None:
    """The sample web app (an ASGI app), or None when this installation has no examples/."""
    if not (WEB_APP / "__init__.py").is_file():
        return None
    # Loaded from its folder under a name of its own: no sys.path change, and no other
    # top-level `examples` package (some distributions ship one) can stand in for it.
    spec = importlib.util.spec_from_file_location(
        "tessera_demo_web_app", WEB_APP / "__init__.py", submodule_search_locations=[str(WEB_APP)]
    )
    assert spec is not None and spec.loader is not None
    sample = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = sample
    try:
        spec.loader.exec_module(sample)
    except ImportError:  # Authlib missing: installed without the dev extra
        del sys.modules[spec.name]
        return None
    settings = sample.Settings(
        issuer=issuer, client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri
    )
    return sample.create_app(settings, spa_client_id)
