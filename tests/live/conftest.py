import pytest

from tests.scale.stack import create_database, drop_database


@pytest.fixture
def postgres_database():
    """A PostgreSQL database of the test's own, for servers that must not share the test database."""
    url = create_database()
    yield url
    drop_database(url)
