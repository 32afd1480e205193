"""`python -m examples.web_app ISSUER --client-id ID --client-secret SECRET` (from the
repository's root): serve the sample web app on http://127.0.0.1:8765.

The client must list http://127.0.0.1:8765/callback (any port, on a loopback address)
among its redirect URIs and be allowed the authorization_code and refresh_token grants.
`make demo` does all of this for you.
"""

from __future__ import annotations

import argparse
import os

import uvicorn

from . import Settings, create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.web_app", description=__doc__.split("\n\n")[0])
    parser.add_argument("issuer", help="the account's address, e.g. http://demo.localhost:8000")
    parser.add_argument("--client-id", required=True)
    parser.add_argument(
        "--client-secret",
        default=os.environ.get("CLIENT_SECRET"),
        help="the client's secret (or the CLIENT_SECRET environment variable, kept out of the shell history)",
    )
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    parser.add_argument("--spa-client-id", help="also serve the single-page app at /spa/ for this public client")
    args = parser.parse_args(argv)
    if not args.client_secret:
        parser.error("give --client-secret or set CLIENT_SECRET")
    settings = Settings(
        issuer=args.issuer.rstrip("/"),
        client_id=args.client_id,
        client_secret=args.client_secret,
        redirect_uri=f"http://127.0.0.1:{args.port}/callback",
    )
    print(f"Sample web app on http://127.0.0.1:{args.port}/  (Ctrl+C to stop)", flush=True)
    uvicorn.run(create_app(settings, args.spa_client_id), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
