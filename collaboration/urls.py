from django.urls import path

from collaboration import api

urlpatterns = [
    path(
        "projects/<uuid:project_id>/members",
        api.ProjectMembersView.as_view(),
        name="project-members",
    ),
    path(
        "projects/<uuid:project_id>/members/<uuid:user_id>",
        api.ProjectMemberDetailView.as_view(),
        name="project-member",
    ),
    path(
        "projects/<uuid:project_id>/invitations",
        api.ProjectInvitationsView.as_view(),
        name="project-invitations",
    ),
    path(
        "projects/<uuid:project_id>/invitations/<uuid:invitation_id>",
        api.ProjectInvitationDetailView.as_view(),
        name="project-invitation",
    ),
    path("invitations", api.InvitationListView.as_view(), name="invitation-list"),
    path("invitations/accept", api.InvitationAcceptView.as_view(), name="invitation-accept"),
    path(
        "projects/<uuid:project_id>/comments",
        api.ProjectCommentsView.as_view(),
        name="project-comments",
    ),
    path("comments/<uuid:comment_id>", api.CommentDetailView.as_view(), name="comment-detail"),
    path("notifications", api.NotificationListView.as_view(), name="notification-list"),
    path("notifications/read", api.NotificationReadView.as_view(), name="notifications-read"),
]
