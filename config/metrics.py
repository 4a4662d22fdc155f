"""Prometheus metrics at /metrics.

- `clipseq_http_request_duration_seconds{method,route,status}`: request latency of this web
  process (scrape every web instance; `route` is the URL pattern, so labels stay few).
- `clipseq_jobs_total{job_type,status}` and `clipseq_job_duration_seconds{job_type}`: every
  finished processing job. Jobs finish in worker processes and containers, so workers add to
  counters in Redis and any web instance reports the cluster-wide totals (in embedded mode the
  workers are threads of the web process and the counters stay in memory).
- `clipseq_queue_depth{queue}`: messages waiting in each Dramatiq queue, read at scrape time.

Access: `Authorization: Bearer <METRICS_TOKEN>`, or a caller in METRICS_ALLOWED_IPS.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections import defaultdict
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)
REQUEST_LATENCY = Histogram(
    "clipseq_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route", "status"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
JOB_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600)
QUEUES = ("media", "export", "maintenance", "default")
_JOB_KEY = "clipseq:metrics:jobs"


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUEST_LATENCY.labels(method, route or "unmatched", str(status)).observe(seconds)


class _JobCounters:
    """Counts of finished jobs: a Redis hash shared by every process, or memory (embedded)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._memory: dict[str, float] = defaultdict(float)

    def _redis(self) -> Any | None:
        url = getattr(settings, "REDIS_URL", "")
        return _redis_client(url) if url else None

    def record(self, job_type: str, status: str, seconds: float | None) -> None:
        fields: dict[str, float] = {f"count|{job_type}|{status}": 1}
        if seconds is not None:
            fields[f"sum|{job_type}"] = seconds
            fields[f"n|{job_type}"] = 1
            for bound in JOB_BUCKETS:
                if seconds <= bound:
                    fields[f"le|{job_type}|{bound}"] = 1
        client = self._redis()
        if client is None:
            with self._lock:
                for field, value in fields.items():
                    self._memory[field] += value
            return
        with client.pipeline(transaction=False) as pipe:
            for field, value in fields.items():
                pipe.hincrbyfloat(_JOB_KEY, field, value)
            pipe.execute()

    def snapshot(self) -> dict[str, float]:
        client = self._redis()
        if client is None:
            with self._lock:
                return dict(self._memory)
        return {k.decode(): float(v) for k, v in client.hgetall(_JOB_KEY).items()}


@lru_cache(maxsize=4)
def _redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


JOB_COUNTERS = _JobCounters()


def record_finished_job(job: Any) -> None:
    """A finish observer (processing.engine.job_finish_observe): count the job and its run time."""
    seconds = None
    if job.started_at and job.completed_at:
        seconds = max(0.0, (job.completed_at - job.started_at).total_seconds())
    try:
        JOB_COUNTERS.record(job.job_type, job.status, seconds)
    except Exception:  # metrics must never fail a job
        logger.warning("could not record metrics for job %s", job.pk, exc_info=True)


def queue_depths() -> dict[str, int]:
    import dramatiq

    broker: Any = dramatiq.get_broker()  # RedisBroker attributes below
    name = type(broker).__name__
    depths: dict[str, int] = {}
    queues = set(QUEUES) | {q for q in broker.get_declared_queues() if not q.endswith(".DQ")}
    if name == "RedisBroker":
        namespace = broker.namespace
        with broker.client.pipeline(transaction=False) as pipe:
            ordered = sorted(queues)
            for queue in ordered:
                pipe.llen(f"{namespace}:{queue}")
            for queue, depth in zip(ordered, pipe.execute(), strict=True):
                depths[queue] = int(depth)
    elif name == "StubBroker":
        for queue in sorted(queues):
            if queue in broker.queues:
                depths[queue] = broker.queues[queue].qsize()
    return depths


def _backup_metrics() -> Iterator[Any]:
    """The newest backup and verification, for alerts such as `time() -
    clipseq_backup_last_success_timestamp_seconds > 26 * 3600` (0 = never)."""
    from backups.models import BackupRun
    from backups.selectors import backup_status

    try:
        status = backup_status()
    except Exception:
        logger.warning("could not read the backup status", exc_info=True)
        return
    backup, verification = status.last_backup, status.last_verification
    families = {
        "clipseq_backup_last_success_timestamp_seconds": (
            "When the newest successful backup finished (Unix time; 0: never).",
            backup.finished_at.timestamp() if backup else 0.0,
        ),
        "clipseq_backup_last_size_bytes": (
            "Size of the newest successful backup.",
            float(backup.size_bytes or 0) if backup else 0.0,
        ),
        "clipseq_backup_verification_timestamp_seconds": (
            "When the newest restore check finished (Unix time; 0: never).",
            verification.finished_at.timestamp() if verification else 0.0,
        ),
        "clipseq_backup_verification_ok": (
            "1 if the newest restore check found every table's rows, else 0.",
            1.0
            if verification is not None and verification.status == BackupRun.Status.SUCCEEDED
            else 0.0,
        ),
    }
    if status.age_seconds is not None:
        families["clipseq_backup_age_seconds"] = (
            "Age of the newest successful backup.",
            status.age_seconds,
        )
    for name, (text, value) in families.items():
        yield GaugeMetricFamily(name, text, value=value)


class _ClusterCollector(Collector):
    def collect(self) -> Iterator[Any]:
        try:
            counts = JOB_COUNTERS.snapshot()
        except Exception:
            logger.warning("could not read job metrics", exc_info=True)
            counts = {}
        jobs = CounterMetricFamily(
            "clipseq_jobs", "Finished processing jobs.", labels=["job_type", "status"]
        )
        durations: dict[str, dict[str, float]] = defaultdict(dict)
        for field, value in counts.items():
            kind, _, rest = field.partition("|")
            if kind == "count":
                job_type, _, status = rest.partition("|")
                jobs.add_metric([job_type, status], value)
            elif kind in ("sum", "n"):
                durations[rest][kind] = value
            elif kind == "le":
                job_type, _, bound = rest.partition("|")
                durations[job_type][bound] = value
        yield jobs
        histogram = HistogramMetricFamily(
            "clipseq_job_duration_seconds",
            "Run time of finished processing jobs.",
            labels=["job_type"],
        )
        for job_type, values in sorted(durations.items()):
            total = values.get("n", 0.0)
            buckets = [(str(float(b)), values.get(str(b), 0.0)) for b in JOB_BUCKETS]
            buckets.append(("+Inf", total))
            histogram.add_metric([job_type], buckets, sum_value=values.get("sum", 0.0))
        yield histogram
        depth = GaugeMetricFamily(
            "clipseq_queue_depth", "Messages waiting in a Dramatiq queue.", labels=["queue"]
        )
        try:
            for queue, size in queue_depths().items():
                depth.add_metric([queue], size)
        except Exception:
            logger.warning("could not read queue depths", exc_info=True)
        yield depth
        yield from _backup_metrics()

    def describe(self) -> Iterator[Any]:
        return iter(())


REGISTRY.register(_ClusterCollector())


def _allowed(request: HttpRequest) -> bool:
    from common.ratelimit import client_ip

    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    return client_ip(request) in set(settings.METRICS_ALLOWED_IPS)


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse("Metrics need a valid token.", status=403, content_type="text/plain")
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
