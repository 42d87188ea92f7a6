"""PLACEHOLDER while the relay is written: route()/entry() pass traffic straight through and faults
raise. The real module (same API) replaces this file; see /work/prompts/network-contract.md."""

from __future__ import annotations


class Network:
    def __init__(self, name: str = "net"):
        self.name = name

    def route(self, src, dst, target: str) -> str:
        return target

    def entry(self, dst, target: str) -> str:
        return target

    def identify(self, src, token: bytes) -> None:
        pass

    def stop(self) -> None:
        pass

    def __getattr__(self, name):
        raise NotImplementedError(f"Network.{name} lands with the relay")
