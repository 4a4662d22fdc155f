"""Dramatiq middleware for every worker process: job ids in the logs, job metrics, and the
maintenance actors.

Listed in settings' Dramatiq middleware, so it is loaded wherever the broker is (web, workers,
the scheduler); its worker hooks run only where messages are processed.
"""

from __future__ import annotations

from typing import Any

import dramatiq

from config.logging import job_id_var

JOB_ACTORS = {"run_media_job", "run_export_job", "render_export_chunk", "mux_export"}


class WorkerContext(dramatiq.Middleware):
    def before_worker_boot(self, broker: Any, worker: Any) -> None:
        # Declares the maintenance actors, so this worker can run what the scheduler sends.
        import config.scheduler  # noqa: F401
        from config.metrics import record_finished_job
        from processing.engine import job_finish_observe

        job_finish_observe(record_finished_job)

    def before_process_message(self, broker: Any, message: Any) -> None:
        if message.actor_name in JOB_ACTORS and message.args:
            job_id_var.set(str(message.args[0]))
        else:
            job_id_var.set(f"{message.actor_name}:{message.message_id}")

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        job_id_var.set("")

    def after_skip_message(self, broker: Any, message: Any) -> None:
        job_id_var.set("")
