"""`Authorization: Bearer <shop API key>`: the key names the shop, and every query of the
request is scoped to that shop."""

from dataclasses import dataclass

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from orders.models import ApiKey, Shop
from orders.services.api_keys import api_key_authenticate

SCHEME = b"bearer"


@dataclass(frozen=True)
class ShopApiClient:
    """The caller of an API request: a shop's integration, not a staff member.

    It stands in `request.user` so that code asking `is_authenticated` gets a true answer; the
    key itself (and through it the shop) is `request.auth`."""

    api_key: ApiKey
    is_authenticated: bool = True
    is_anonymous: bool = False


class ShopApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[ShopApiClient, ApiKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != SCHEME:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Send the key as 'Authorization: Bearer <key>'.")
        try:
            raw_key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid or revoked API key.") from None
        key = api_key_authenticate(raw_key=raw_key)
        if key is None:
            raise AuthenticationFailed("Invalid or revoked API key.")
        return ShopApiClient(api_key=key), key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) and tell the client which scheme to use.
        return 'Bearer realm="api"'


def request_api_key(request: Request) -> ApiKey:
    """The key that authenticated the request (`HasShopApiKey` lets no other in)."""
    key = request.auth
    if not isinstance(key, ApiKey):
        raise NotAuthenticated()
    return key


def request_shop(request: Request) -> Shop:
    """The shop whose key authenticated the request."""
    return request_api_key(request).shop


class HasShopApiKey(BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        return isinstance(request.auth, ApiKey)
