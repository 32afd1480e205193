"""Write the figures `make reliability` measured into docs/reliability.md.

    python -m tests.e2e.reliability_figures FIGURES.jsonl docs/reliability.md

FIGURES.jsonl holds what tests/e2e/faults.record wrote, one JSON object a line. The tables
replace whatever stands between the two marker comments of the document's "Proof under
faults" section; the prose around them is written by hand.
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

START = "<!-- reliability figures: written by make reliability -->"
END = "<!-- end of reliability figures -->"


def _races(rows: list[dict[str, Any]]) -> list[str]:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row)
    due = {"code": "exactly one", "refresh": "exactly one", "revoke+refresh": "at most one refresh"}
    bulk = "none alive after"
    lines = [
        "| race (PostgreSQL, `--workers 2`) | rounds | requests per round | success due | rounds as due "
        "| double successes | 5xx |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, runs in by_kind.items():
        if kind.startswith("refresh+"):  # a bulk revocation among refreshes of many families
            lines.append(
                f"| {kind} | {len(runs)} | {runs[0]['racers']} | {bulk} | {sum(r['alive'] == 0 for r in runs)} | - "
                f"| {sum(r['server_errors'] for r in runs)} |"
            )
            continue
        as_due = sum(r["successes"] == 1 if kind != "revoke+refresh" else r["successes"] <= 1 for r in runs)
        doubles = sum(r["successes"] > 1 for r in runs)
        errors = sum(r["server_errors"] for r in runs)
        racers = runs[0]["racers"]
        lines.append(f"| {kind} | {len(runs)} | {racers} | {due[kind]} | {as_due} | {doubles} | {errors} |")
    bulk_rounds = [r for r in rows if r["kind"].startswith("refresh+")]
    if bulk_rounds:
        amid = sum(0 < r["successes"] < r["racers"] - 1 for r in bulk_rounds)
        lines += [
            "",
            f"In {amid} of {len(bulk_rounds)} bulk-revocation rounds the revocation landed among the refreshes "
            "(some refreshes won, the rest were refused); in the others every refresh had won before it.",
        ]
    return lines


def _crashes(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| engine | kill | load before it | answered 200 | tokens checked after restart | lost "
        "| codes redeemed / twice | half-written rows | 5xx | restart until answering |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['engine']} | {r['kill']} | {r['load_seconds']} s | {r['answered']:,} | {r['checked']:,} "
            f"| {r['lost']} | {r['codes_redeemed']} / {r['codes_redeemed_twice']} | {r['half_written']} "
            f"| {r['server_errors']} | {r['restart_seconds']} s |"
        )
    checked, lost = sum(r["checked"] for r in rows), sum(r["lost"] for r in rows)
    answered = sum(r["answered"] for r in rows)
    lines += ["", f"Across {len(rows)} kills: {answered:,} answers of 200, {checked:,} tokens checked, {lost} lost."]
    return lines


def _full_disk(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| SQLite on a full disk (3 MB tmpfs) | writes that still fitted | tokens answered 200 | lost "
        "| back to 200 after space returned |",
        "|---|---|---|---|---|",
    ]
    for number, r in enumerate(rows, 1):
        lines.append(
            f"| run {number} | {r['writes_before_refusal']} | {r['answered']} | {r['lost']} | {r['recovery_seconds']} s |"
        )
    return lines


def _outages(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| PostgreSQL gone under load (`--workers 2`, timeout 2 s) | outage | requests during it | answered 503 "
        "| slowest answer during it | `/readyz` 503 | back to a first 200 | every loop back to 200 | tokens answered 200 "
        "| lost | other 5xx |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| outage {r['outage']} | {r['outage_seconds']} s | {r['during']:,} | {r['answered_503']:,} "
            f"| {r['slowest_during']} s | {r['readyz_503']} of {r['readyz_probes']} | {r['first_200_seconds']} s "
            f"| {r['all_200_seconds']} s | {r['answered_200']:,} | {r['lost']} | {r['server_errors']} |"
        )
    return lines


def render(figures: list[dict[str, Any]]) -> str:
    kinds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for figure in figures:
        kinds[figure["figure"]].append(figure)
    parts = [START, "", f"Measured by `make reliability` on {time.strftime('%Y-%m-%d', time.gmtime())}.", ""]
    for name, table in (("race", _races), ("crash", _crashes), ("full_disk", _full_disk), ("outage", _outages)):
        if kinds[name]:
            parts += [*table(kinds[name]), ""]
    parts.append(END)
    return "\n".join(parts)


def main(figures_path: str, document_path: str) -> None:
    text = Path(figures_path).read_text() if Path(figures_path).exists() else ""
    figures = [json.loads(line) for line in text.splitlines() if line.strip()]
    document = Path(document_path)
    current = document.read_text()
    if START not in current or END not in current:
        raise SystemExit(f"{document_path} has no figure markers ({START} ... {END})")
    before, rest = current.split(START, 1)
    after = rest.split(END, 1)[1]
    document.write_text(before + render(figures) + after)
    print(f"wrote {len(figures)} figures into {document_path}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m tests.e2e.reliability_figures FIGURES.jsonl DOCUMENT.md")
    main(sys.argv[1], sys.argv[2])
