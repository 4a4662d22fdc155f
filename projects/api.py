"""Projects over HTTP: thin views that parse, fetch with permission, call one service, serialize."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import Pagination, error_responses, json_text_validator, paginated_response
from projects.models import Project
from projects.selectors import get_project_for_user, project_list
from projects.services import (
    SETTINGS_MAX_BYTES,
    project_create,
    project_delete,
    project_update,
)
from projects.templates import TEMPLATES


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "description",
            "template",
            "status",
            "settings",
            "total_duration",
            "clips_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


def _settings_object(value: Any) -> None:
    if not isinstance(value, dict):
        raise serializers.ValidationError(
            'Settings must be a JSON object, like {"resolution": "1920x1080"}.'
        )


class ProjectInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(max_length=10_000, allow_blank=True, required=False)
    template = serializers.ChoiceField(choices=Project.Template.choices, required=False)
    settings = serializers.JSONField(
        required=False,
        validators=[_settings_object, json_text_validator],
        help_text=f"A JSON object of editor settings, at most {SETTINGS_MAX_BYTES} bytes.",
    )


class ProjectUpdateInputSerializer(ProjectInputSerializer):
    status = serializers.ChoiceField(
        choices=Project.Status.choices,
        required=False,
        help_text="Only 'archived' (archive) and 'draft' (unarchive) may be set.",
    )


class ProjectListFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Project.Status.choices, required=False)


class ProjectListView(APIView):
    # Declared on the view so the schema describes the {count, next, previous, results} page.
    pagination_class = Pagination

    @extend_schema(
        parameters=[ProjectListFilterSerializer],
        # 404: a page number past the last page.
        responses={200: ProjectSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request: Request) -> Response:
        filters = ProjectListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        projects = project_list(user=request.user, **filters.validated_data)
        return paginated_response(request, projects, ProjectSerializer, view=self)

    @extend_schema(
        request=ProjectInputSerializer,
        responses={201: ProjectSerializer, **error_responses(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = ProjectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_create(owner=request.user, **data.validated_data)
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailView(APIView):
    @extend_schema(responses={200: ProjectSerializer, **error_responses(401, 404)})
    def get(self, request: Request, project_id: str) -> Response:
        project = get_project_for_user(request.user, project_id)
        return Response(ProjectSerializer(project).data)

    @extend_schema(
        request=ProjectUpdateInputSerializer,
        responses={200: ProjectSerializer, **error_responses(400, 401, 404, 409)},
    )
    def put(self, request: Request, project_id: str) -> Response:
        return self._update(request, project_id, partial=False)

    @extend_schema(
        request=ProjectUpdateInputSerializer,
        responses={200: ProjectSerializer, **error_responses(400, 401, 404, 409)},
    )
    def patch(self, request: Request, project_id: str) -> Response:
        return self._update(request, project_id, partial=True)

    def _update(self, request: Request, project_id: str, *, partial: bool) -> Response:
        project = get_project_for_user(request.user, project_id)
        data = ProjectUpdateInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        project = project_update(project=project, **data.validated_data)
        return Response(ProjectSerializer(project).data)

    @extend_schema(responses={204: None, **error_responses(401, 404)})
    def delete(self, request: Request, project_id: str) -> Response:
        project = get_project_for_user(request.user, project_id)
        project_delete(project=project)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TemplateSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    settings = serializers.DictField(help_text="What the template presets in project settings.")


class TemplateListView(APIView):
    """GET /api/templates: the templates a project can start from, `blank` first."""

    @extend_schema(responses={200: TemplateSerializer(many=True), **error_responses(401)})
    def get(self, request: Request) -> Response:
        return Response(TemplateSerializer(TEMPLATES, many=True).data)
