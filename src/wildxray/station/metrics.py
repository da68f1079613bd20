"""Station metrics in the Prometheus text exposition format (version 0.0.4), written by hand.

A handful of counters, gauges and one latency histogram; no client library needed.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import defaultdict

#: Seconds from file arrival (or upload) to result on disk.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    esc = (v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for _, v in pairs)
    return "{" + ",".join(f'{k}="{v}"' for (k, _), v in zip(pairs, esc)) + "}"


class StationMetrics:
    """Thread-safe counters of one station process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = time.time()
        self.scans: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)
        self.alarms: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)
        self.errors: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)
        self.reloads: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)
        self.hot_folder: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)
        self.bucket_counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.in_progress = 0

    def observe_scan(self, origin: str, decision: str, alarm_classes: list[str], error_code: str | None,
                     latency_s: float) -> None:
        with self._lock:
            self.scans[(("origin", origin), ("decision", decision))] += 1
            for c in alarm_classes:
                self.alarms[(("class", c),)] += 1
            if error_code:
                self.errors[(("code", error_code),)] += 1
            self.bucket_counts[bisect.bisect_left(LATENCY_BUCKETS, latency_s)] += 1
            self.latency_sum += max(0.0, latency_s)
            self.latency_count += 1

    def observe_reload(self, ok: bool) -> None:
        with self._lock:
            self.reloads[(("result", "ok" if ok else "failed"),)] += 1

    def observe_hot_folder(self, problem: str) -> None:
        """One hot-folder problem: ``undecodable_name`` (taken under an escaped name), ``poll_failed``
        (the folder could not be listed), ``claim_failed`` (a file could not be taken, retried) or
        ``unclaimable`` (given up on and moved to quarantine, or left where it is)."""
        with self._lock:
            self.hot_folder[(("problem", problem),)] += 1

    def scan_started(self) -> None:
        with self._lock:
            self.in_progress += 1

    def scan_ended(self) -> None:
        with self._lock:
            self.in_progress -= 1

    def render(self, queue_depth: int, model_name: str, model_sha256: str) -> str:
        """The ``/metrics`` body."""
        lines: list[str] = []

        def family(name: str, kind: str, help_text: str, samples: dict) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")
            for labels, value in sorted(samples.items()):
                lines.append(f"{name}{_labels(labels)} {value}")

        with self._lock:
            family("wildxray_scans_total", "counter", "Scans finished, by origin and decision.", dict(self.scans))
            family("wildxray_alarms_total", "counter", "Alarms raised, by class.", dict(self.alarms))
            family("wildxray_errors_total", "counter", "Scans that ended in an error result, by cause.",
                   dict(self.errors))
            family("wildxray_model_reloads_total", "counter", "Model reload attempts.", dict(self.reloads))
            family("wildxray_hot_folder_problems_total", "counter",
                   "Hot-folder files or polls the watcher could not handle as usual, by problem.",
                   dict(self.hot_folder))
            lines.append("# HELP wildxray_scan_latency_seconds Time from file arrival/upload to result on disk.")
            lines.append("# TYPE wildxray_scan_latency_seconds histogram")
            cum = 0
            for bound, n in zip(LATENCY_BUCKETS, self.bucket_counts):
                cum += n
                lines.append(f'wildxray_scan_latency_seconds_bucket{{le="{bound}"}} {cum}')
            lines.append(f'wildxray_scan_latency_seconds_bucket{{le="+Inf"}} {self.latency_count}')
            lines.append(f"wildxray_scan_latency_seconds_sum {self.latency_sum:.6f}")
            lines.append(f"wildxray_scan_latency_seconds_count {self.latency_count}")
            in_progress = self.in_progress
        family("wildxray_queue_depth", "gauge", "Scans taken on and waiting for a worker.", {(): queue_depth})
        family("wildxray_scans_in_progress", "gauge", "Scans being predicted right now.", {(): in_progress})
        family("wildxray_model_info", "gauge", "The model in service.",
               {(("name", model_name), ("sha256", model_sha256)): 1})
        family("wildxray_uptime_seconds", "gauge", "Seconds since the station started.",
               {(): round(time.time() - self.started, 3)})
        return "\n".join(lines) + "\n"
