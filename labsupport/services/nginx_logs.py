"""nginx's usage log, read back: one row per request, and counts per API key and status.

    rows = read_usage(path)       # [{"t_s": 1712.3, "key": "key-alice", "tier": "free", "method": "GET",
                                  #   "path": "/v1/predict", "status": 200}, ...]; a missing file: []
    usage_counts(rows)            # {"key-alice": {"200": 5, "429": 12}, "-": {"401": 2}}

The log's line format is ``NginxConfig.render_gateway``'s ``log_format usage``: time, key, tier, method,
path, status, separated by spaces ("-" for an unknown key or tier).
"""

from __future__ import annotations

from pathlib import Path


def read_usage(path: str | Path) -> list[dict]:
    """Every well-formed line of the usage log at ``path``, oldest first."""
    path = Path(path)
    rows = []
    for line in path.read_text().splitlines() if path.exists() else []:
        parts = line.split()
        if len(parts) == 6:
            rows.append({"t_s": float(parts[0]), "key": parts[1], "tier": parts[2], "method": parts[3],
                         "path": parts[4], "status": int(parts[5])})
    return rows


def usage_counts(rows: list[dict]) -> dict[str, dict[str, int]]:
    """Requests per key and status (as strings, like the gateways' own meters)."""
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        per_key = counts.setdefault(row["key"], {})
        per_key[str(row["status"])] = per_key.get(str(row["status"]), 0) + 1
    return counts
