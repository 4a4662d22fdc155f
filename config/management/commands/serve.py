"""Serve the whole app from one process: daphne for HTTP and websockets, plus, when the broker
is Dramatiq's in-memory stub (embedded mode), worker threads that run the jobs."""

from __future__ import annotations

from typing import Any

import dramatiq
from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from django.conf import settings
from django.core.management.base import BaseCommand
from dramatiq.brokers.stub import StubBroker


class Command(BaseCommand):
    help = "Serve Clip Sequencer (daphne), with in-process Dramatiq workers in embedded mode."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.DRAMATIQ_EMBEDDED_WORKERS,
            help="Worker threads to start when the broker is the in-memory stub.",
        )

    def handle(self, *args: Any, host: str, port: int, workers: int, **options: Any) -> None:
        from config.asgi import application

        broker = dramatiq.get_broker()
        worker = None
        if isinstance(broker, StubBroker) and workers > 0:
            worker = dramatiq.Worker(broker, worker_threads=workers, worker_timeout=200)
            worker.start()
            self.stdout.write(f"Started {workers} in-process Dramatiq worker threads.")
        self.stdout.write(f"Clip Sequencer is serving on http://{host}:{port}/ (Ctrl-C stops it).")
        try:
            Server(
                application=application,
                endpoints=build_endpoint_description_strings(host=host, port=port),
                signal_handlers=True,
                websocket_timeout=86400,
            ).run()
        finally:
            if worker is not None:
                worker.stop(timeout=5000)
