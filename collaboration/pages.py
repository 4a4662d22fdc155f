"""The page an invitation link opens: who invited you to what, and a button to join.

A plain form posted back to the same address (the session and its CSRF token), so joining
needs no script. The same service as POST /api/invitations/accept does the work.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from collaboration.models import Invitation
from collaboration.selectors import invitation_status
from collaboration.services import invitation_accept
from collaboration.services.members import masked_email
from collaboration.tokens import invitation_id_from_token
from common.errors import ServiceError


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation_id = invitation_id_from_token(token)
    found = (
        Invitation.objects.select_related("project", "invited_by").filter(pk=invitation_id).first()
        if invitation_id
        else None
    )
    context: dict[str, object] = {"invitation": found, "token": token}
    if found is None:
        return render(request, "collaboration/invitation.html", context, status=404)
    next_query = urlencode({"next": request.path})
    login_url = f"{reverse('account_login')}?{next_query}"
    context.update(
        status=invitation_status(found),
        masked_email=masked_email(found.email),
        login_url=login_url,
        signup_url=f"{reverse('account_signup')}?{next_query}",
        matches=request.user.is_authenticated and request.user.email.lower() == found.email,
    )
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(login_url)
        try:
            invitation_accept(user=request.user, token=token)
        except (ServiceError, PermissionDenied) as exc:
            context["error"] = str(getattr(exc, "message", "") or exc)
            return render(request, "collaboration/invitation.html", context, status=400)
        messages.success(request, f"You joined “{found.project.name}”.")
        return redirect("project-editor", project_id=found.project_id)
    return render(request, "collaboration/invitation.html", context)
