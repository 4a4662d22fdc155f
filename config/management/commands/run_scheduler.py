"""Run the maintenance schedule (config/scheduler.py): one process per deployment."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Send the periodic maintenance jobs to the workers (expired uploads, stuck jobs, …)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--list", action="store_true", help="Print the schedule and exit without running it."
        )

    def handle(self, *args: Any, list: bool = False, **options: Any) -> None:
        from config.scheduler import build_scheduler

        scheduler = build_scheduler(blocking=not list)
        if list:
            scheduler.start(paused=True)
            for job in scheduler.get_jobs():
                self.stdout.write(f"{job.id:<28} {job.trigger}  next: {job.next_run_time}")
            scheduler.shutdown(wait=False)
            return
        self.stdout.write("Scheduler running (Ctrl-C stops it).")
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass
