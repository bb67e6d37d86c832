"""System checks of the document renderer (``manage.py check``, and every process start)."""

from django.core.checks import Warning, register


@register()
def font_subsetter_check(app_configs=None, **kwargs):
    """Without HarfBuzz's subsetter WeasyPrint subsets fonts with fontTools: still
    reproducible here (``coworking.documents.rendering``), but in other bytes than on the
    machines that have it, so a document re-rendered on the other kind of machine would not
    match its recorded SHA-256."""
    from coworking.documents.rendering import harfbuzz_subsetter_available

    if harfbuzz_subsetter_available():
        return []
    return [
        Warning(
            "WeasyPrint subsets fonts with fontTools here because HarfBuzz's subsetter "
            "(libharfbuzz-subset) is missing: PDFs rendered on this machine differ in their "
            "bytes from those rendered where it is installed.",
            hint="Install it: `apt-get install libharfbuzz-subset0` (Debian/Ubuntu).",
            id="documents.W001",
        )
    ]
