"""The open-loop driver's self-check (labsupport.resilience.clients.lag_p95 / open_loop_on_pace)."""

import asyncio

from labsupport import services
from labsupport.resilience import clients


def _row(lag, outside):
    return {"lag_s": lag, "outside_s": outside}


def test_time_lost_outside_the_server_counts_late_sends_and_waits_elsewhere():
    rows = [_row(0.001, 0.002)] * 95 + [_row(0.2, None)] * 3 + [_row(0.0, 0.5)] * 2
    assert clients.lag_p95(rows) == 0.2  # the 96th of 100 rows: a request that left 200 ms late
    assert clients.lag_p95([_row(0.001, 0.002)] * 100) == 0.003
    assert clients.lag_p95([]) == 0.0


def test_a_real_run_reports_the_server_time_and_little_loss_elsewhere():
    srv = services.app("labsupport.apps.resilience_queue:app", name="queue-selfcheck",
                       env={"MODE": "bounded", "WORKERS": 4, "QUEUE": 8, "SERVICE_MS": 20})
    try:
        rows = asyncio.run(clients.open_loop_on_pace(srv.url + "/work", 100, 1.0, 1.0, idle_url=srv.url + "/stats"))
    finally:
        srv.stop()
    served = [r for r in rows if r["status"] == 200]
    assert served and all(0 <= r["outside_s"] < r["latency_s"] for r in served)
    assert clients.lag_p95(rows) < 0.05
