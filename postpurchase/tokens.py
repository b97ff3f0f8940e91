import hashlib
import secrets


def new_public_token() -> str:
    """An unguessable token for customer-facing links: 192 bits, URL-safe."""
    return secrets.token_urlsafe(24)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
