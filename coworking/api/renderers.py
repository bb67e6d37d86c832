"""Renderers for non-JSON responses, so content negotiation accepts their media types."""

from rest_framework.renderers import BaseRenderer


class PDFRenderer(BaseRenderer):
    """Lets ``Accept: application/pdf`` through; the views return the bytes themselves."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class XMLRenderer(PDFRenderer):
    """Lets ``Accept: application/xml`` through for e-invoices; the views return the bytes."""

    media_type = "application/xml"
    format = "xml"
