import pytest

from tests.access.world import make_world


@pytest.fixture
def world(db):
    """A shop with one of everything the dashboard can name, its owner, manager and agent,
    and another shop with its owner."""
    return make_world()
