from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The composition root as an app, for the commands that run the whole site: `serve`,
    `run_scheduler`, `usage_report` (config/management/commands)."""

    name = "config"
    label = "site"
