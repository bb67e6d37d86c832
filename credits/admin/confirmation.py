"""What a confirmation page computed from, carried by the page itself, signed: the cancel
and the credit note workflows check it again before acting."""

from django.core import signing

CONFIRMATION_SALT = "credits.admin.confirmation"


def sign_figures(figures) -> str:
    """The figures a confirmation page computed from, as the page carries them (signed, so
    what comes back is what this application wrote)."""
    return signing.dumps(figures, salt=CONFIRMATION_SALT, compress=True)


def unsign_figures(token: str | None):
    """The figures a confirmation page carried, or ``None`` when it carried none (or they
    were altered): such a page is out of date."""
    try:
        return signing.loads(token or "", salt=CONFIRMATION_SALT)
    except signing.BadSignature:
        return None
