"""The new-profile form: the questions of ``gclogin profiles new``, checked by the library.

The rules are the library's (``service.profile_answers``, the CLI's too); this module only
maps the form's text fields to answers. Secrets are never echoed back.
"""
from __future__ import annotations

from collections.abc import Mapping

from service.profile_answers import ANSWER_FIELDS
from service.profiles import GrantType

FIELDS = ANSWER_FIELDS
SECRET_FIELDS = frozenset({"access_token", "client_secret"})
GRANT_CHOICES = tuple((g.value, g.label) for g in GrantType)


def form_values(form: Mapping[str, str]) -> dict[str, str]:
    """The submitted fields we know, stripped (secrets included: keep them server-side)."""
    return {name: str(form.get(name, "")).strip() for name in FIELDS}
