"""Sharing, comments and notifications over HTTP (API.md, second round). Thin views: parse,
fetch with the role the action needs (projects.selectors), call one service, serialize.
Bodies are JSON only: a form-encoded list of ids would trip Django's field-count limit."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from collaboration import selectors, services
from collaboration.serializers import (
    CommentSerializer,
    InvitationSerializer,
    MemberSerializer,
    NotificationSerializer,
    OwnerInvitationSerializer,
)
from common.api import Pagination, error_responses
from common.parsers import JSONParser
from projects.models import MEMBER_ROLE_CHOICES, Role
from projects.selectors import get_project_for_user, require_project_role
from timeline.api import SecondsField


def _page(request: Request, items: object, serializer_class: type, *, view: APIView) -> dict:
    paginator = Pagination()
    page: list[Any] | None = paginator.paginate_queryset(items, request, view=view)  # type: ignore[arg-type]
    return dict(paginator.get_paginated_response(serializer_class(page, many=True).data).data)


# --- members and invitations -------------------------------------------------------------------


class MemberPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = MemberSerializer(many=True)
    invitations = OwnerInvitationSerializer(
        many=True, required=False, help_text="Pending invitations; only in the owner's answer."
    )


class ProjectMembersView(APIView):
    pagination_class = Pagination

    @extend_schema(responses={200: MemberPageSerializer, **error_responses(401, 404)})
    def get(self, request: Request, project_id: uuid.UUID) -> Response:
        """The owner first, then the members; the owner also gets the pending invitations."""
        project = get_project_for_user(request.user, project_id, role=Role.VIEWER)
        body = _page(
            request, selectors.project_members(project=project), MemberSerializer, view=self
        )
        if project.caller_role == Role.OWNER:  # type: ignore[attr-defined]
            invitations = selectors.project_invitations(project=project)
            body["invitations"] = OwnerInvitationSerializer(invitations, many=True).data
        return Response(body)


class MemberUpdateInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=MEMBER_ROLE_CHOICES)


class ProjectMemberDetailView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        request=MemberUpdateInputSerializer,
        responses={200: MemberSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, project_id: uuid.UUID, user_id: uuid.UUID) -> Response:
        project = get_project_for_user(request.user, project_id, role=Role.OWNER)
        data = MemberUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.member_role_update(
            project=project, user_id=user_id, role=data.validated_data["role"]
        )
        return Response(MemberSerializer(member).data)

    @extend_schema(responses={204: None, **error_responses(400, 401, 403, 404)})
    def delete(self, request: Request, project_id: uuid.UUID, user_id: uuid.UUID) -> Response:
        """The owner removes a member; a member removes themself (leaves the project)."""
        leaving = user_id == request.user.pk
        project = get_project_for_user(
            request.user, project_id, role=Role.VIEWER if leaving else Role.OWNER
        )
        services.member_remove(project=project, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=MEMBER_ROLE_CHOICES)


class ProjectInvitationsView(APIView):
    parser_classes = [JSONParser]
    pagination_class = Pagination

    @extend_schema(
        responses={200: OwnerInvitationSerializer(many=True), **error_responses(401, 403, 404)}
    )
    def get(self, request: Request, project_id: uuid.UUID) -> Response:
        """The owner's pending invitations of the project, newest first."""
        project = get_project_for_user(request.user, project_id, role=Role.OWNER)
        invitations = selectors.project_invitations(project=project)
        return Response(_page(request, invitations, OwnerInvitationSerializer, view=self))

    @extend_schema(
        request=InvitationInputSerializer,
        responses={201: OwnerInvitationSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, project_id: uuid.UUID) -> Response:
        """Invite an address with a role; an e-mail with the link goes out."""
        project = get_project_for_user(request.user, project_id, role=Role.OWNER)
        data = InvitationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invitation_create(
            project=project, invited_by=request.user, **data.validated_data
        )
        return Response(OwnerInvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class ProjectInvitationDetailView(APIView):
    @extend_schema(responses={204: None, **error_responses(401, 403, 404, 409)})
    def delete(self, request: Request, project_id: uuid.UUID, invitation_id: uuid.UUID) -> Response:
        """Revoke an invitation: its link stops working."""
        project = get_project_for_user(request.user, project_id, role=Role.OWNER)
        invitation = selectors.get_project_invitation(project=project, invitation_id=invitation_id)
        services.invitation_revoke(invitation=invitation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationListView(APIView):
    pagination_class = Pagination

    # 404: a page number past the last page.
    @extend_schema(responses={200: InvitationSerializer(many=True), **error_responses(401, 404)})
    def get(self, request: Request) -> Response:
        """The caller's pending invitations, matched by e-mail without regard to case."""
        invitations = selectors.invitations_for_user(user=request.user)
        return Response(_page(request, invitations, InvitationSerializer, view=self))


class InvitationAcceptInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=500)


class InvitationAcceptView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        request=InvitationAcceptInputSerializer,
        responses={200: MemberSerializer, **error_responses(400, 401, 403, 409)},
    )
    def post(self, request: Request) -> Response:
        data = InvitationAcceptInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.invitation_accept(user=request.user, token=data.validated_data["token"])
        return Response(MemberSerializer(member).data)


# --- comments ----------------------------------------------------------------------------------


class CommentListFilterSerializer(serializers.Serializer):
    resolved = serializers.BooleanField(required=False, allow_null=True, default=None)


class CommentInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10_000)
    time = SecondsField(
        min_value=Decimal("0"),
        required=False,
        allow_null=True,
        help_text="Seconds on the timeline (rounded to milliseconds).",
    )
    segment_id = serializers.UUIDField(required=False, allow_null=True)
    parent_id = serializers.UUIDField(required=False, allow_null=True)
    mentions = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=50, help_text="User ids."
    )


class CommentUpdateInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10_000, required=False)
    resolved = serializers.BooleanField(required=False)


class ProjectCommentsView(APIView):
    parser_classes = [JSONParser]
    pagination_class = Pagination

    @extend_schema(
        parameters=[CommentListFilterSerializer],
        responses={200: CommentSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request: Request, project_id: uuid.UUID) -> Response:
        """Oldest first; `?resolved=` filters whole threads."""
        project = get_project_for_user(request.user, project_id, role=Role.VIEWER)
        filters = CommentListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        comments = selectors.comments_for_project(project=project, **filters.validated_data)
        return Response(_page(request, comments, CommentSerializer, view=self))

    @extend_schema(
        request=CommentInputSerializer,
        responses={201: CommentSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, project_id: uuid.UUID) -> Response:
        project = get_project_for_user(request.user, project_id, role=Role.COMMENTER)
        data = CommentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.comment_create(
            project=project, author=request.user, **data.validated_data
        )
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class CommentDetailView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        request=CommentUpdateInputSerializer,
        responses={200: CommentSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, comment_id: uuid.UUID) -> Response:
        """The author edits `body`; an editor or the owner sets `resolved`."""
        # Visibility first: a non-member gets the 404 before any validation error.
        comment = selectors.get_comment_for_user(request.user, comment_id, role=Role.VIEWER)
        data = CommentUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        needed = Role.EDITOR if "resolved" in data.validated_data else Role.COMMENTER
        require_project_role(request.user, comment.project, needed)
        comment = services.comment_update(comment=comment, by=request.user, **data.validated_data)
        return Response(CommentSerializer(comment).data)

    @extend_schema(responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, comment_id: uuid.UUID) -> Response:
        """The author or the project's owner."""
        comment = selectors.get_comment_for_user(request.user, comment_id, role=Role.VIEWER)
        services.comment_delete(
            comment=comment,
            by=request.user,
            role=comment.project.caller_role,  # type: ignore[attr-defined]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- notifications -----------------------------------------------------------------------------


class NotificationListFilterSerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False)


class NotificationReadInputSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=1000,
        help_text="The notifications to mark read; none: all of them.",
    )


class NotificationListView(APIView):
    pagination_class = Pagination

    @extend_schema(
        parameters=[NotificationListFilterSerializer],
        responses={200: NotificationSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request: Request) -> Response:
        """The caller's notifications, newest first; `unread_count` counts the unread ones."""
        filters = NotificationListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        notifications = selectors.notifications_for_user(
            user=request.user, **filters.validated_data
        )
        body = _page(request, notifications, NotificationSerializer, view=self)
        body["unread_count"] = selectors.notifications_unread_count(user=request.user)
        return Response(body)


class NotificationReadView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        request=NotificationReadInputSerializer,
        responses={204: None, **error_responses(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = NotificationReadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.notifications_mark_read(user=request.user, ids=data.validated_data.get("ids"))
        return Response(status=status.HTTP_204_NO_CONTENT)
