from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.websocket_auth import socket_credentials
        from realtime.access import credentials_check_register

        credentials_check_register(socket_credentials)
