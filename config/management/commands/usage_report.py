"""Print a usage table per user: storage, clips, exports and processing minutes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


def _size(value: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{value} B"
        value /= 1024  # type: ignore[assignment]
    return f"{value} B"


class Command(BaseCommand):
    help = "Print storage, clips, exports and processing minutes per user."

    def handle(self, *args: Any, **options: Any) -> None:
        from config.maintenance import usage_rows

        rows = usage_rows()
        header = (
            f"{'user':<40} {'storage':>12} {'limit':>12} {'clips':>6} {'exports':>8} "
            f"{'export size':>12} {'proc. min':>10}"
        )
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for row in rows:
            self.stdout.write(
                f"{row.email:<40} {_size(row.storage_used):>12} {_size(row.storage_limit):>12} "
                f"{row.clips:>6} {row.exports:>8} {_size(row.export_bytes):>12} "
                f"{row.processing_minutes:>10.1f}"
            )
        self.stdout.write(f"{len(rows)} users")
