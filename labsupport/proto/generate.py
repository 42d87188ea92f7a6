"""Regenerate the Python stubs from the .proto files in this folder.

    python -m labsupport.proto.generate              # rewrites labsupport/proto/*_pb2*.py(i)
    generate(out_dir)                                # writes them under out_dir instead (the drift test)

Each generated file starts with a header naming its .proto and this command. The committed
stubs must equal a fresh run: ``tests/test_proto_stubs.py`` fails when they drift.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent  # the folder that holds the labsupport package
# (proto file, also generate gRPC client/server code?)
PROTOS = [("model_service.proto", True), ("model_service_v2.proto", False)]
COMMAND = "python -m labsupport.proto.generate"


def _header(proto_rel: str) -> str:
    tools = importlib.metadata.version("grpcio-tools")
    return (f"# Generated from {proto_rel} by `{COMMAND}` (grpcio-tools {tools}).\n"
            f"# Do not edit: change the .proto file and run the command again.\n")


def generate(out_dir: str | Path | None = None) -> list[Path]:
    """Run protoc on every .proto here; return the generated files (under out_dir/labsupport/proto)."""
    from grpc_tools import protoc  # noqa: PLC0415 - only needed when generating

    out = Path(out_dir) if out_dir is not None else ROOT
    target = out / "labsupport" / "proto"
    target.mkdir(parents=True, exist_ok=True)
    well_known = str(importlib.resources.files("grpc_tools") / "_proto")
    written = []
    for name, with_grpc in PROTOS:
        rel = f"labsupport/proto/{name}"
        args = ["grpc_tools.protoc", f"-I{ROOT}", f"-I{well_known}", f"--python_out={out}", f"--pyi_out={out}"]
        if with_grpc:
            args.append(f"--grpc_python_out={out}")
        args.append(rel)
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed on {rel}")
        stem = name.removesuffix(".proto")
        files = [target / f"{stem}_pb2.py", target / f"{stem}_pb2.pyi"]
        files += [target / f"{stem}_pb2_grpc.py"] if with_grpc else []
        for path in files:
            path.write_text(_header(rel) + path.read_text())
            written.append(path)
    return written


def main() -> None:
    for path in generate(sys.argv[1] if len(sys.argv) > 1 else None):
        print("wrote", path)


if __name__ == "__main__":
    main()
