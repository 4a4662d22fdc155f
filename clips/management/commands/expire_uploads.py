"""Expire abandoned chunked uploads (cron-friendly; the periodic actor does the same)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from clips.services.uploads import uploads_expire


class Command(BaseCommand):
    help = "Expire uploads past their deadline: release reserved quota, delete chunks and clips."

    def handle(self, *args: Any, **options: Any) -> None:
        expired = uploads_expire()
        self.stdout.write(f"Expired {expired} upload(s).")
