"""Projects over HTTP: thin views that parse, fetch with permission, call one service, serialize."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import Pagination, error_responses, json_text_validator, paginated_response
from projects.models import Project, Role
from projects.selectors import get_project_for_user, project_list, require_project_role
from projects.services import (
    SETTINGS_MAX_BYTES,
    project_create,
    project_delete,
    project_update,
)
from projects.templates import TEMPLATES


class UserSummarySerializer(serializers.Serializer):
    """Who someone is to the other members of a project: never their e-mail or storage."""

    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(source="display_name", read_only=True)
    # Empty when the user has no picture, which a `uri` format would not allow.
    avatar_url = serializers.CharField(read_only=True)


class ProjectSerializer(serializers.ModelSerializer):
    """A project as its caller sees it: `role` is the caller's (set by the access selector)."""

    role = serializers.ChoiceField(
        source="caller_role", choices=Role.choices, read_only=True, allow_null=True
    )
    owner = UserSummarySerializer(read_only=True)

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
            "role",
            "owner",
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
    role = serializers.ChoiceField(
        choices=Role.choices, required=False, help_text="Only projects where the caller has it."
    )


# Renaming, describing, archiving and changing the template manage the project (owner);
# settings (canvas, fit …) are part of editing it (editor).
OWNER_FIELDS = {"name", "description", "template", "status"}


def role_to_update(fields: set[str]) -> Role:
    return Role.OWNER if fields & OWNER_FIELDS else Role.EDITOR


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
        project.caller_role = Role.OWNER  # type: ignore[attr-defined]
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailView(APIView):
    @extend_schema(responses={200: ProjectSerializer, **error_responses(401, 404)})
    def get(self, request: Request, project_id: str) -> Response:
        project = get_project_for_user(request.user, project_id, role=Role.VIEWER)
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
        # Visibility first: a non-member gets the 404 before any validation error.
        project = get_project_for_user(request.user, project_id, role=Role.VIEWER)
        data = ProjectUpdateInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        needed = role_to_update(set(data.validated_data) if partial else OWNER_FIELDS)
        require_project_role(request.user, project, needed)
        updated = project_update(project=project, **data.validated_data)
        updated.caller_role = project.caller_role  # type: ignore[attr-defined]
        return Response(ProjectSerializer(updated).data)

    @extend_schema(responses={204: None, **error_responses(401, 404)})
    def delete(self, request: Request, project_id: str) -> Response:
        project = get_project_for_user(request.user, project_id, role=Role.OWNER)
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
