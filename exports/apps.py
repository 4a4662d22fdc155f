from django.apps import AppConfig


class ExportsConfig(AppConfig):
    """Turning a timeline into a video. The job engine learns of the export handler here."""

    name = "exports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from exports import engine

        engine.connect()
