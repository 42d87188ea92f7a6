"""The model service's Protocol Buffers schema and its generated Python stubs.

    from labsupport.proto import model_service_pb2 as pb, model_service_pb2_grpc as pb_grpc
    pb.PredictRequest(features=[0.1, 0.2], model_version="v1").SerializeToString()
    PROTO_FILE.read_text()                 # the schema itself, to show in a lab
    python -m labsupport.proto.generate    # regenerate the stubs after editing a .proto

model_service_v2.proto adds a field to each message (the compatibility demo). The *_pb2* files
are generated: never edit them by hand.
"""

import os
from pathlib import Path

# gRPC's fork support restarts its threads inside a forked child; labsupport forks (then execs) every
# server it starts, and with those threads running the child can hang or abort before exec. The labs
# never fork a process that keeps using gRPC, so turn the feature off before grpc is first imported.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

PROTO_FILE = Path(__file__).with_name("model_service.proto")
PROTO_V2_FILE = Path(__file__).with_name("model_service_v2.proto")
