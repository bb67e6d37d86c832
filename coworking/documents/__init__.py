"""Documents: what invoices and credit notes share, below the apps that own them.

- ``models``: the abstract ``Document`` (money totals, their constraints, the stored PDF's
  bookkeeping) and ``DocumentLine``; ``invoicing.Invoice`` and ``credits.CreditNote`` (and
  their lines) extend them.
- ``rendering``: the one PDF renderer (WeasyPrint, the shipped fonts and stylesheet, offline,
  reproducible bytes) and the formats of dates, numbers and money in the customer's language.
- ``storage``: render, store (private "documents" storage, SHA-256, size) and record a
  document's PDF; sweep the ones still missing; verify stored files.
- ``downloads``: serve a stored PDF, or say why not (and queue a new render when the file is
  lost).
- ``kinds``: ``DocumentKind``, each kind of document declared once by the app that owns it;
  its render, sweep, tasks and downloads follow from the declaration.

Each app builds its own document's context and template and declares its kind
(``invoicing.documents``, ``credits.documents``); nothing here knows invoices or credit notes.
"""
