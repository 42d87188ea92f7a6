# Generated from labsupport/proto/model_service_v2.proto by `python -m labsupport.proto.generate` (grpcio-tools 1.85.1).
# Do not edit: change the .proto file and run the command again.
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class PredictRequest(_message.Message):
    __slots__ = ("features", "model_version", "request_id")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedScalarFieldContainer[float]
    model_version: str
    request_id: str
    def __init__(self, features: _Optional[_Iterable[float]] = ..., model_version: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class PredictResponse(_message.Message):
    __slots__ = ("prediction", "confidence", "served_by")
    PREDICTION_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SERVED_BY_FIELD_NUMBER: _ClassVar[int]
    prediction: float
    confidence: float
    served_by: str
    def __init__(self, prediction: _Optional[float] = ..., confidence: _Optional[float] = ..., served_by: _Optional[str] = ...) -> None: ...
