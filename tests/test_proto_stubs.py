"""The generated protobuf/gRPC stubs in labsupport/proto match their .proto files (no drift, no hand edits)."""

from pathlib import Path

from labsupport.proto import generate

PROTO_DIR = Path(generate.__file__).parent


def test_committed_stubs_equal_a_fresh_generation(tmp_path):
    """Regenerate every stub into a temp dir: each file must be byte-for-byte the committed one."""
    fresh = generate.generate(tmp_path)
    assert fresh, "the generator wrote nothing"
    for path in fresh:
        committed = PROTO_DIR / path.name
        assert committed.exists(), f"{path.name} is generated but not committed: run `{generate.COMMAND}`"
        assert committed.read_text() == path.read_text(), (
            f"{committed.name} differs from what {generate.COMMAND} produces: regenerate, never edit by hand")


def test_no_stray_generated_files():
    """Every *_pb2* file in labsupport/proto comes from a .proto listed in the generator."""
    stems = {name.removesuffix(".proto") for name, _ in generate.PROTOS}
    for path in PROTO_DIR.glob("*_pb2*"):
        assert path.name.split("_pb2")[0] in stems, f"{path.name} has no .proto in generate.PROTOS"


def test_generated_files_name_their_source():
    """Each generated file starts with a header naming its .proto and the command that made it."""
    for path in PROTO_DIR.glob("*_pb2*"):
        head = path.read_text().splitlines()[0]
        assert head.startswith("# Generated from labsupport/proto/") and generate.COMMAND in head, path.name
