"""The static files storage of every environment but the tests (``STORAGES["staticfiles"]``)."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's storage (content-hashed names, compressed copies), gzip only.

    Brotli is installed anyway (WeasyPrint's fontTools uses it), and WhiteNoise would then
    spend half a minute of CPU at every build brotli-compressing the API docs' bundles and
    the fonts, for a few percent less on files browsers cache for a year.
    """

    def create_compressor(self, **kwargs):
        return super().create_compressor(**{**kwargs, "use_brotli": False})
