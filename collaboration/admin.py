from __future__ import annotations

from django.contrib import admin

from collaboration.models import Comment, Invitation, Notification
from projects.models import ProjectMember


@admin.register(ProjectMember)
class ProjectMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role", "joined_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "project__name"]
    list_select_related = ["user", "project"]
    raw_id_fields = ["user", "project", "invited_by"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "project", "role", "status", "created_at", "expires_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "project__name"]
    list_select_related = ["project"]
    raw_id_fields = ["project", "invited_by", "accepted_by"]
    readonly_fields = ["id", "created_at", "responded_at"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["author", "project", "time", "resolved", "created_at"]
    list_filter = ["resolved", "created_at"]
    search_fields = ["body", "author__email", "project__name"]
    list_select_related = ["author", "project"]
    raw_id_fields = ["project", "author", "segment", "parent", "resolved_by", "mentions"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "level", "project", "created_at", "read_at"]
    list_filter = ["kind", "level"]
    search_fields = ["user__email", "message"]
    list_select_related = ["user", "project"]
    raw_id_fields = ["user", "project"]
    readonly_fields = ["id", "created_at"]
