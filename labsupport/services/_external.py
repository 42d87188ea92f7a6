"""A server the learner already runs (given by an environment-variable URL).

labsupport did not start it, so it cannot crash or pause it: fault methods raise a clear error.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ._process import ServiceError


class ExternalService:
    kind = "server"

    def __init__(self, url: str, name: str | None = None):
        self.url = url
        self.name = name or self.kind
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.password = parts.password

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def probe(self) -> bool:
        raise NotImplementedError

    def check(self):
        try:
            ok = self.probe()
        except Exception as exc:  # noqa: BLE001
            raise ServiceError(
                f"{self.name}: the server at {self.url} (from the environment) does not answer: {exc}.\n"
                f"Fix: start it, or unset the environment variable to let labsupport start its own."
            ) from None
        if not ok:
            raise ServiceError(f"{self.name}: the server at {self.url} answered its probe with a failure.")
        return self

    def _not_ours(self, *_a, **_k):
        raise ServiceError(
            f"{self.name} at {self.url} was started outside labsupport (environment URL), so a lab cannot "
            f"kill, pause or restart it. Unset the environment variable to run this fault lab."
        )

    kill = pause = resume = restart = _not_ours

    running = True

    def stop(self) -> None:  # nothing to stop: it is not ours
        pass

    cleanup = stop

    def logs(self, lines: int = 40) -> str:
        return "(an external server: its logs are wherever it runs)"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self) -> str:
        return f"<External {self.kind} {self.url}>"
