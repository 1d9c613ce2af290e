from __future__ import annotations

import pytest

from forum.services import api_tokens
from tests.api.scene import live  # noqa: F401 (fixture: the event of the events area's tests)
from tests.web.conftest import rate_limited_app  # noqa: F401 (fixture: a second app with rate limits on)


@pytest.fixture
def bearer(db):
    """bearer(user, scope="write", days=30) -> the Authorization header of a new token."""
    def _bearer(user, scope: str = "write", days: int = 30) -> dict:
        secret = api_tokens.create_token(user, name=f"test {scope}", scope=scope, days=days).secret
        return {"Authorization": f"Bearer {secret}"}
    return _bearer
