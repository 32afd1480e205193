"""The console's client form offers every grant type the model knows, each with a label."""

from tessera.model import GRANT_TYPES
from tessera.web.admin.client_form import GRANT_LABELS


def test_every_grant_type_has_a_label_in_the_console() -> None:
    assert set(GRANT_LABELS) == set(GRANT_TYPES)
