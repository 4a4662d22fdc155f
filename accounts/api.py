"""Authentication and profile endpoints (API.md "Authentication")."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import User
from accounts.services import NAME_MAX_LENGTH, SignIn
from common.api import ApiError, error_responses, json_text_validator
from common.errors import ErrorCode

BIO_MAX_LENGTH = 5000


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Tells the OpenAPI schema how every endpoint authenticates (registered on import)."""

    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(
            header_name="AUTHORIZATION",
            token_prefix="Bearer",  # noqa: S106 - the scheme name, not a secret
            bearer_format="JWT",
        )


class UserSerializer(serializers.ModelSerializer):
    # Empty when the user has no picture, which a `uri` format would not allow.
    avatar_url = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "name",
            "avatar_url",
            "bio",
            "preferences",
            "storage_used",
            "storage_limit",
            "discord_id",
            "created_at",
            "last_login",
        ]
        read_only_fields = fields


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    name = serializers.CharField(max_length=NAME_MAX_LENGTH)


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False)
    password = serializers.CharField(required=False, trim_whitespace=False, max_length=4096)
    provider = serializers.ChoiceField(choices=[services.DISCORD], required=False)
    code = serializers.CharField(required=False, max_length=2000)
    redirect_uri = serializers.URLField(required=False, max_length=2000)
    access_token = serializers.CharField(required=False, max_length=2000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("provider"):
            if not attrs.get("code") and not attrs.get("access_token"):
                raise serializers.ValidationError(
                    {
                        "code": "Send a Discord authorization code (with redirect_uri) or an "
                        "access_token."
                    }
                )
            if attrs.get("code") and not attrs.get("redirect_uri"):
                raise serializers.ValidationError(
                    {"redirect_uri": "Send the redirect_uri the code was issued for."}
                )
            return attrs
        missing = {
            field: "This field is required."
            for field in ("email", "password")
            if not attrs.get(field)
        }
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class ProfileSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX_LENGTH, allow_blank=True, required=False)
    bio = serializers.CharField(
        max_length=BIO_MAX_LENGTH, allow_blank=True, required=False, trim_whitespace=False
    )
    preferences = serializers.JSONField(required=False, validators=[json_text_validator])

    def validate_preferences(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("Preferences must be a JSON object.")
        return value


TokenPairSerializer = inline_serializer(
    "TokenPair", {"access": serializers.CharField(), "refresh": serializers.CharField()}
)
SignInSerializer = inline_serializer(
    "SignIn",
    {
        "access": serializers.CharField(),
        "refresh": serializers.CharField(),
        "user": UserSerializer(),
    },
)


def _sign_in_body(sign_in: SignIn) -> dict[str, Any]:
    return {
        "access": sign_in.tokens.access,
        "refresh": sign_in.tokens.refresh,
        "user": UserSerializer(sign_in.user).data,
    }


class PublicAuthView(APIView):
    # No authentication at all: a stale or broken Bearer header must not stop a sign-in.
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]


class RegisterView(PublicAuthView):
    throttle_scope = "auth"

    @extend_schema(
        request=RegisterSerializer,
        responses={201: SignInSerializer, **error_responses(400, 403)},
    )
    def post(self, request: Request) -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            sign_in = services.user_register(**serializer.validated_data)
        except services.RegistrationClosed as exc:
            raise ApiError(exc.code, exc.message, http_status=status.HTTP_403_FORBIDDEN) from exc
        return Response(_sign_in_body(sign_in), status=status.HTTP_201_CREATED)


class LoginView(PublicAuthView):
    throttle_scope = "auth"

    @extend_schema(
        request=LoginSerializer,
        # 503: Discord could not be reached.
        responses={200: SignInSerializer, **error_responses(400, 401, 409, 503)},
    )
    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("provider") == services.DISCORD:
            sign_in = services.auth_login_discord(
                request=request._request,
                code=data.get("code"),
                redirect_uri=data.get("redirect_uri"),
                access_token=data.get("access_token"),
            )
        else:
            try:
                sign_in = services.auth_login_password(
                    request=request._request, email=data["email"], password=data["password"]
                )
            except services.TooManyAttempts as exc:
                raise ApiError(
                    ErrorCode.RATE_LIMITED,
                    exc.message,
                    exc.details,
                    headers={"Retry-After": str(exc.retry_after)},
                ) from exc
        return Response(_sign_in_body(sign_in))


class RefreshView(PublicAuthView):
    throttle_scope = "auth"

    @extend_schema(
        request=RefreshSerializer,
        responses={200: TokenPairSerializer, **error_responses(400, 401)},
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.auth_refresh(refresh=serializer.validated_data["refresh"])
        return Response({"access": pair.access, "refresh": pair.refresh})


class LogoutView(PublicAuthView):
    @extend_schema(request=RefreshSerializer, responses={204: None, **error_responses(400)})
    def post(self, request: Request) -> Response:
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.auth_logout(refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UserSerializer, **error_responses(401)})
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        request=ProfileSerializer, responses={200: UserSerializer, **error_responses(400, 401)}
    )
    def patch(self, request: Request) -> Response:
        serializer = ProfileSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        assert isinstance(request.user, User)  # IsAuthenticated let only users through
        user = services.user_update_profile(user=request.user, **serializer.validated_data)
        return Response(UserSerializer(user).data)
