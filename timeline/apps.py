from django.apps import AppConfig


class TimelineConfig(AppConfig):
    name = "timeline"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """A deleted clip takes its segments along: the timeline hears of it from clips."""
        from clips.services.clips import clip_delete_hook_register
        from timeline.services import clip_segments_delete

        clip_delete_hook_register(clip_segments_delete)
