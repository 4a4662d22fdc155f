"""Docker cannot run here, so these specs read deploy/ and hold it to the settings: every
service, port, volume and environment variable the compose file uses must match what
config/settings.py reads and what .env.example documents."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
APP_SERVICES = ("migrate", "web", "worker-media", "worker-export", "scheduler", "static")
# Variables only the compose file itself uses (containers' passwords, host names).
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"}
COMPOSE_ONLY |= {"SERVER_NAME", "S3_PUBLIC_HOST"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def settings_variables() -> set[str]:
    source = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r"env_(?:str|int|bool|float|list|required)\(\s*\"([A-Z0-9_]+)\"", source))


def documented_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def interpolated_variables() -> set[str]:
    text = (DEPLOY / "docker-compose.yml").read_text()
    return set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)\}", text))


def test_every_variable_the_settings_read_is_documented() -> None:
    missing = settings_variables() - documented_variables()

    assert len(settings_variables()) > 50
    assert missing == set(), "add these to .env.example"


def test_the_example_documents_nothing_that_does_not_exist() -> None:
    unknown = documented_variables() - settings_variables() - COMPOSE_ONLY

    assert unknown == set()


def test_every_variable_compose_interpolates_is_in_the_example() -> None:
    assert interpolated_variables() - documented_variables() == set()


def test_app_containers_only_get_variables_the_settings_read(compose: dict[str, Any]) -> None:
    known = settings_variables()
    for name in APP_SERVICES:
        environment = compose["services"][name].get("environment", {})
        assert set(environment) - known == set(), name
        assert compose["services"][name]["env_file"] == ".env"


def test_it_runs_every_service_production_needs(compose: dict[str, Any]) -> None:
    services = compose["services"]

    assert services["db"]["image"] == "postgres:15"
    assert services["redis"]["image"].startswith("redis:7")
    assert services["minio"]["image"].startswith("minio/minio")
    assert "mc mb" in services["createbucket"]["entrypoint"]
    assert services["web"]["command"][:1] == ["daphne"]
    assert "config.asgi:application" in services["web"]["command"]
    assert services["scheduler"]["command"] == ["python", "manage.py", "run_scheduler"]
    assert services["nginx"]["image"].startswith("nginx:")


def test_urls_point_at_the_services_and_their_ports(compose: dict[str, Any]) -> None:
    services = compose["services"]
    env = services["web"]["environment"]
    web_port = services["web"]["command"][services["web"]["command"].index("--port") + 1]

    assert re.match(
        r"postgres://clipseq:\$\{POSTGRES_PASSWORD\}@db:5432/clipseq$", env["DATABASE_URL"]
    )
    assert services["db"]["environment"]["POSTGRES_DB"] == "clipseq"
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert env["DRAMATIQ_BROKER_URL"].startswith("redis://redis:6379/")
    assert env["REDIS_URL"] != env["DRAMATIQ_BROKER_URL"]  # cache eviction never drops jobs
    assert services["web"]["expose"] == [web_port]
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert f"server web:{web_port};" in nginx
    assert "server minio:9000;" in nginx
    assert "9000" in services["minio"]["expose"]
    assert set(services["nginx"]["ports"]) == {"80:80", "443:443"}
    assert "${S3_PUBLIC_HOST}" in services["nginx"]["networks"]["default"]["aliases"]


def test_workers_cover_every_queue_and_keep_exports_apart(compose: dict[str, Any]) -> None:
    import dramatiq

    import config.scheduler  # noqa: F401  (declares the maintenance actors)

    declared = {q for q in dramatiq.get_broker().get_declared_queues() if not q.endswith(".DQ")}

    def queues(service: str) -> set[str]:
        command = compose["services"][service]["command"]
        return set(command[command.index("--queues") + 1 :])

    assert queues("worker-export") == {"export"}
    assert "export" not in queues("worker-media")
    assert declared <= queues("worker-media") | queues("worker-export")


def test_every_volume_is_declared_and_mounted_where_the_settings_expect(
    compose: dict[str, Any],
) -> None:
    declared = set(compose["volumes"])
    used = set()
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith("."):
                used.add(source)

    assert used == declared
    app_env = compose["services"]["web"]["environment"]
    assert (
        f"processing_tmp:{app_env['PROCESSING_TMP_DIR']}" in compose["services"]["web"]["volumes"]
    )
    assert "static_files:/srv/static:ro" in compose["services"]["nginx"]["volumes"]
    assert "alias /srv/static/;" in (DEPLOY / "nginx.conf").read_text()


def test_the_web_healthcheck_calls_healthz(compose: dict[str, Any]) -> None:
    assert "/healthz" in " ".join(compose["services"]["web"]["healthcheck"]["test"])


def test_nginx_proxies_websockets_and_overwrites_forwarded_for() -> None:
    nginx = (DEPLOY / "nginx.conf").read_text()
    ws = nginx[nginx.index("location /ws/") : nginx.index("}", nginx.index("location /ws/"))]

    assert "proxy_set_header Upgrade $http_upgrade;" in ws
    assert "proxy_set_header Connection $connection_upgrade;" in ws
    assert "$proxy_add_x_forwarded_for" not in nginx
    assert nginx.count("proxy_set_header X-Forwarded-For $remote_addr;") == 3
    body_limit = int(re.search(r"client_max_body_size (\d+)m;", nginx).group(1))
    assert body_limit * 1024**2 > 100 * 1024**2  # UPLOAD_SINGLE_REQUEST_MAX fits


def test_the_image_is_slim_non_root_with_ffmpeg_and_static_files() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()

    assert re.search(r"^FROM python:3\.11-slim", dockerfile, flags=re.MULTILINE)
    assert "ffmpeg" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert re.search(r"^USER app$", dockerfile, flags=re.MULTILINE)
    assert "--proxy-headers" not in dockerfile  # the app decides which hop to trust


def test_local_media_reaches_browsers_only_through_nginx_s_internal_location(
    compose: dict[str, Any],
) -> None:
    nginx = (DEPLOY / "nginx.conf").read_text()
    prefix = compose["services"]["web"]["environment"]["MEDIA_X_ACCEL_REDIRECT_PREFIX"]
    start = nginx.index(f"location {prefix} {{")
    block = nginx[start : nginx.index("}", start)]

    assert "internal;" in block
    assert "alias /srv/media/;" in block
    # The app writes media under VAR_DIR/media (/app/var/media in the image); nginx reads it.
    assert "media_files:/app/var/media" in compose["services"]["web"]["volumes"]
    assert "media_files:/srv/media:ro" in compose["services"]["nginx"]["volumes"]
    assert "location /media/" not in nginx
