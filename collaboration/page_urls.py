from django.urls import path

from collaboration import pages

urlpatterns = [
    path("invitations/<str:token>/", pages.invitation, name="invitation-page"),
]
