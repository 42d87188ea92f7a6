"""The cluster network: bytes between nodes go through one relay, and its faults do what they say.

Each test is a scenario on plain TCP servers (no engine), so a failure points at the network itself.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time

import pytest

from labsupport.clusters.network import Network


class _Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(65536):
            self.request.sendall(data)


class _Ticker(socketserver.BaseRequestHandler):
    """Sends b"t" every 20 ms and keeps what the client sent in server.received."""

    def handle(self):
        self.request.settimeout(0.02)
        while not self.server.done.is_set():
            try:
                self.request.sendall(b"t")
                data = self.request.recv(65536)
                if data == b"":
                    return
                self.server.received += data
            except socket.timeout:
                continue
            except OSError:
                return


def _server(handler):
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    srv.received, srv.done = b"", threading.Event()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"127.0.0.1:{srv.server_address[1]}"


def _connect(addr: str, timeout: float = 2.0) -> socket.socket:
    host, port = addr.split(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def _recv_within(sock: socket.socket, seconds: float) -> bytes | None:
    sock.settimeout(seconds)
    try:
        return sock.recv(65536)
    except socket.timeout:
        return None


@pytest.fixture
def net():
    n = Network("test")
    yield n
    n.stop()


@pytest.fixture
def echo():
    srv, addr = _server(_Echo)
    yield addr
    srv.shutdown()


def test_route_relays_bytes_and_counts_them_per_directed_link(net, echo):
    """Bytes sent by a reach b through the route, and the relay counts each direction."""
    s = _connect(net.route("a", "b", echo))
    s.sendall(b"hello")
    assert s.recv(100) == b"hello"
    stats = net.stats()
    assert stats[("a", "b")]["bytes"] == 5 and stats[("b", "a")]["bytes"] == 5
    assert stats[("a", "b")]["connections"] == 1


def test_cut_holds_bytes_like_a_dead_host_then_heal_delivers_them_in_order(net, echo):
    """During a cut nothing answers and nothing is refused; healing delivers what was held, in order."""
    s = _connect(net.route("a", "b", echo))
    s.sendall(b".")
    assert s.recv(10) == b"."  # the relay has connected this one upstream
    with net.link("a", "b").cut():
        s.sendall(b"one,")
        s.sendall(b"two")
        assert _recv_within(s, 0.4) is None  # a timeout: not an EOF (b""), not a reset
        assert net.stats()[("a", "b")]["held_bytes"] == 7
    got = b""
    s.settimeout(2)
    while len(got) < 7:
        got += s.recv(100)
    assert got == b"one,two"


def test_new_connection_across_a_cut_is_accepted_but_hears_nothing_until_heal(net, echo):
    """A partition looks like a host that never answers, not like a refused connection."""
    addr = net.route("a", "b", echo)
    cut = net.link("a", "b").cut()
    s = _connect(addr)  # accepted: no ConnectionRefusedError
    s.sendall(b"ping")
    assert _recv_within(s, 0.4) is None
    cut.undo()
    assert _recv_within(s, 2.0) == b"ping"


def test_one_way_cut_stops_one_direction_only():
    """Cutting only a -> b: b's bytes still reach a, a's bytes no longer reach b (and the reverse)."""
    srv, addr = _server(_Ticker)
    net = Network("oneway")
    try:
        s = _connect(net.route("a", "b", addr))
        s.sendall(b"x")
        time.sleep(0.2)
        assert srv.received == b"x"
        with net.link("a", "b", one_way=True).cut():
            s.sendall(b"y")
            assert _recv_within(s, 1.0)  # ticks from b still arrive
            time.sleep(0.2)
            assert srv.received == b"x"  # y is held
        time.sleep(0.3)
        assert srv.received == b"xy"
        with net.link("b", "a", one_way=True).cut():
            time.sleep(0.1)
            while _recv_within(s, 0.05):  # drain ticks sent before the cut
                pass
            s.sendall(b"z")
            assert _recv_within(s, 0.4) is None  # no tick gets through
            time.sleep(0.2)
            assert srv.received == b"xyz"  # but a's bytes do
    finally:
        srv.done.set()
        srv.shutdown()
        net.stop()


def test_latency_is_per_direction_and_adds_to_each_round_trip(net, echo):
    """latency(ms=40) on both directions: every round trip gains about 80 ms."""
    s = _connect(net.route("a", "b", echo))

    def rtt_ms():
        t = time.perf_counter()
        s.sendall(b"x")
        s.recv(10)
        return (time.perf_counter() - t) * 1000

    base = min(rtt_ms() for _ in range(5))
    with net.link("a", "b").latency(ms=40):
        slow = min(rtt_ms() for _ in range(5))
    with net.link("a", "b", one_way=True).latency(ms=40):
        half = min(rtt_ms() for _ in range(5))
    assert slow - base >= 75 and half - base >= 35
    assert half < slow - 25


def test_loss_delays_about_p_of_the_chunks_by_a_retransmission_timeout(net, echo):
    """TCP loses no bytes: with loss p, about p of the chunks wait one retransmission timeout."""
    s = _connect(net.route("a", "b", echo))
    n = 60
    with net.link("a", "b", one_way=True).loss(p=0.3, rto_ms=5):
        for i in range(n):
            s.sendall(b"%03d" % i)
            assert s.recv(10) == b"%03d" % i  # every byte arrives, in order
    delayed = net.stats()[("a", "b")]["delayed_chunks"]
    assert 0.1 * n <= delayed <= 0.55 * n


def test_an_entry_tells_sources_apart_by_their_tokens(net, echo):
    """One address for everyone: the earliest token in a connection's first bytes names its source."""
    addr = net.entry("b", echo)
    net.identify("a", b"from=a")
    net.identify("c", b"from=c")
    sa, sc, su = _connect(addr), _connect(addr), _connect(addr)
    sa.sendall(b"hdr from=a body mentions from=c")
    sc.sendall(b"hdr from=c")
    su.sendall(b"nobody")
    for s in (sa, sc):
        assert _recv_within(s, 2.0)
    assert _recv_within(su, 2.0) == b"nobody"  # an unknown source is relayed, after the identify wait
    with net.link("c", "b").cut():
        sa.sendall(b"!")
        sc.sendall(b"!")
        assert _recv_within(sa, 1.0) == b"!"
        assert _recv_within(sc, 0.4) is None
    stats = net.stats()
    assert stats[("a", "b")]["connections"] == 1 and stats[("c", "b")]["connections"] == 1
    assert stats[("?", "b")]["connections"] == 1


def test_partition_and_isolate_cut_between_groups_only(net, echo):
    """partition({a}, {b}) cuts a-b; a node outside the groups keeps its links; heal ends it all."""
    ab, cb = _connect(net.route("a", "b", echo)), _connect(net.route("c", "b", echo))
    net.partition({"a"}, {"b"})
    ab.sendall(b"1")
    cb.sendall(b"2")
    assert _recv_within(cb, 1.0) == b"2"
    assert _recv_within(ab, 0.3) is None
    net.heal()
    assert _recv_within(ab, 2.0) == b"1"
    with net.isolate("b"):
        cb.sendall(b"3")
        assert _recv_within(cb, 0.3) is None
    assert _recv_within(cb, 2.0) == b"3"
    assert net.faults() == []


def test_faults_from_many_threads_overlap_safely(net, echo):
    """Eight threads cut and restore one link 25 times each; a cut stays while any thread holds one."""
    s = _connect(net.route("a", "b", echo))
    link = net.link("a", "b")
    errors = []
    holder = link.cut()  # held by the main thread throughout

    def churn():
        try:
            for _ in range(25):
                with link.cut():
                    pass
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=churn) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    s.sendall(b"x")
    assert _recv_within(s, 0.3) is None  # the main thread's cut survived every other undo
    assert len(net.faults()) == 1
    holder.undo()
    assert _recv_within(s, 2.0) == b"x"


def test_stop_leaves_no_relay_behind(echo):
    """The relay is a managed process: stop() ends it and frees its ports."""
    net = Network("gone")
    addr = net.route("a", "b", echo)
    relay = net._relay
    assert relay.running
    net.stop()
    assert not relay.running
    with pytest.raises(OSError):
        _connect(addr, timeout=0.5)


def test_scanning_entry_answers_before_the_source_names_itself_then_faults_it(net, echo):
    """A client that waits for a reply before it names itself (a Valkey replica's PING, then REPLCONF
    listening-port): a scanning entry relays at once, and once the token shows up, a's link faults
    reach the connection; b's cut does not."""
    addr = net.entry("dst", echo, scan=True)
    net.identify("a", b"I-am-a")
    s = _connect(addr)
    t0 = time.monotonic()
    s.sendall(b"PING")
    assert _recv_within(s, 2.0) == b"PING"
    assert time.monotonic() - t0 < 0.5  # a non-scanning entry holds a tokenless PING for its wait (1 s)
    s.sendall(b"I-am-a")
    assert _recv_within(s, 2.0) == b"I-am-a"
    with net.link("b", "dst").cut():
        s.sendall(b"still-here")
        assert _recv_within(s, 2.0) == b"still-here"
    with net.link("a", "dst", one_way=True).cut():
        s.sendall(b"held")
        assert _recv_within(s, 0.5) is None
    assert _recv_within(s, 2.0) == b"held"
    links = net.stats()
    assert links[("a", "dst")]["connections"] == 1 and links[("?", "dst")]["connections"] == 0
    assert links[("a", "dst")]["bytes"] >= len(b"still-hereheld")
