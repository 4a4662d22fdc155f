"""Output shapes of members, invitations, comments and notifications (API.md, "Sharing a
project", "Comments", "Notifications"). Shared by the API views and the websocket messages, so
a comment pushed live is exactly the comment the API answers."""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from collaboration.models import Comment, Invitation, Notification
from collaboration.selectors import invitation_status
from collaboration.tokens import invitation_url
from projects.api import UserSummarySerializer
from projects.models import Role


class MemberUserSerializer(UserSummarySerializer):
    # Members see each other's address: it is how they were invited.
    email = serializers.EmailField(read_only=True)


class MemberSerializer(serializers.Serializer):
    user = MemberUserSerializer(read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    joined_at = serializers.DateTimeField(read_only=True)


class InvitationSerializer(serializers.ModelSerializer):
    """An invitation as its invitee sees it: no link, which only the e-mail carries."""

    project_id = serializers.UUIDField(read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    status = serializers.SerializerMethodField()
    invited_by = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "project_id",
            "project_name",
            "email",
            "role",
            "status",
            "invited_by",
            "created_at",
            "expires_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Invitation.Status.choices))
    def get_status(self, invitation: Invitation) -> str:
        return invitation_status(invitation)


class OwnerInvitationSerializer(InvitationSerializer):
    """The owner's view: with the link, to copy and pass on by other means."""

    url = serializers.SerializerMethodField()

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "url"]
        read_only_fields = fields

    def get_url(self, invitation: Invitation) -> str | None:
        if invitation.status != Invitation.Status.PENDING:
            return None
        return invitation_url(invitation.pk)


class CommentSerializer(serializers.ModelSerializer):
    project_id = serializers.UUIDField(read_only=True)
    author = UserSummarySerializer(read_only=True)
    time = serializers.DecimalField(
        max_digits=10, decimal_places=3, read_only=True, allow_null=True
    )
    segment_id = serializers.UUIDField(read_only=True, allow_null=True)
    parent_id = serializers.UUIDField(read_only=True, allow_null=True)
    mentions = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = [
            "id",
            "project_id",
            "author",
            "body",
            "time",
            "segment_id",
            "parent_id",
            "resolved",
            "mentions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_mentions(self, comment: Comment) -> list[str]:
        # From the prefetch (comments_for_project), not a query per comment; sorted, as a
        # many-to-many relation keeps no order.
        return sorted(str(user.pk) for user in comment.mentions.all())


class NotificationSerializer(serializers.ModelSerializer):
    project_id = serializers.UUIDField(read_only=True, allow_null=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "level", "message", "project_id", "data", "read", "created_at"]
        read_only_fields = fields

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


def comment_data(comment: Comment) -> dict[str, Any]:
    """The comment as the API renders it (numbers stay numbers: the channel layer's encoder
    would turn a Decimal into a string)."""
    return json.loads(JSONRenderer().render(CommentSerializer(comment).data))
