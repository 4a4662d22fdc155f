from django.urls import path

from realtime import consumers

websocket_urlpatterns = [
    path("ws/", consumers.UserEventsConsumer.as_asgi()),
    path("ws/projects/<uuid:project_id>/", consumers.ProjectEventsConsumer.as_asgi()),
]
