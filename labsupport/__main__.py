"""``python -m labsupport doctor``: where each real server comes from, its version, or how to get it."""

from __future__ import annotations

import sys


def doctor() -> int:
    from .services import _resolve  # noqa: PLC0415

    print("Systems Design Fundamentals: lab servers on this machine\n")
    missing = 0
    for src in _resolve.all_sources():
        if src.kind == "missing":
            missing += 1
            print(f"  ✘ {src.service:9} MISSING   {src.note}")
        else:
            label = {"env": "env URL", "path": "PATH", "wheel": "pip wheel"}[src.kind]
            note = f"  ({src.note})" if src.note else ""
            print(f"  ✔ {src.service:9} {label:9} {src.where}\n    {'':9} {src.version}{note}")
    print("\n  Python-only servers (uvicorn apps, gRPC, DNS, fault proxy, the cluster network's relay) and the")
    print("  embedded engines (RocksDB via rocksdict, ladybug, FAISS) come from pip and need nothing else.")
    if missing:
        print(f"\n{missing} server(s) missing: install them as shown, then run `make doctor` again.")
    return 1 if missing else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["doctor"]:
        return doctor()
    print("usage: python -m labsupport doctor")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
