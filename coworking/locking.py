"""Row locks: the one order every transaction takes them in, and the one way to take them.

**Order.** A transaction that needs several of these rows locks them in this order and
never the other way round; a lock taken out of order waits for a transaction that may be
waiting for it (PostgreSQL then aborts one of them after ``deadlock_timeout``: a 503 for an
API client, a retry for a task).

1. the customer (``Customer``), when account credit is spent or refunded: it serialises
   every spending of that customer's credit;
2. the invoice (``invoicing.services.invoice_lock``): what is paid, credited and due is read
   under it, so payments, credit notes and cancels of one invoice serialise on it;
3. the location's number series (``coworking.numbering.next_number``), as late as possible
   and held to the commit; then the books' journal counters of the same location
   (``books.posting.write``, sales before bank before miscellaneous); the sales entry of an
   invoice or a credit note is worked out before the document's number
   (``books.subscribers``), so only its three writes follow it;
3b. the customer's balance row in the entry's currency (``CustomerBalance``), moved by
   ``coworking.services.ledger_post`` once the document is numbered; callers that spend
   credit hold the customer (1) already, the others (payments, credit notes) are ordered
   by this row alone;
4. the invoice's webhook event stream (``webhooks.outbox.event_record``, one upsert taken by
   ``announce`` once the change is written);
5. at commit, PostgreSQL's deferred foreign-key checks: ``FOR KEY SHARE`` on every row the
   transaction's new rows reference (the invoice, the customer, the location, the note).

A document's PDF bookkeeping (``coworking.documents.storage``) and a credit note's e-mail
(``credits.documents``) lock that one row, then (announcing ``*.pdf_ready``) the stream (4),
never 1 to 3. Rows of the outbox (``Event``, ``Delivery``, ``Endpoint``) are locked in transactions that
lock nothing else. A bulk cancellation's item is claimed first, then its invoice's cancel
takes 1 to 5 in the same transaction; an API request's idempotency key (an advisory lock)
comes before everything.

**Strength.** Step 5 is why every lock here is ``FOR NO KEY UPDATE`` (``lock_rows``): none of
these transactions deletes the row it locks or changes its key, and ``FOR NO KEY UPDATE``
still serialises writers while letting the key-share checks of other transactions' inserts
through. A ``FOR UPDATE`` lock on the invoice made a deadlock with the worker recording the
previous credit note's PDF: the worker held the invoice's event stream (4) and asked, at
commit, ``FOR KEY SHARE`` on the invoice (5), held ``FOR UPDATE`` by a transaction issuing the
next credit note, which was waiting for the stream (``tests/coworking/test_lock_order.py``). A
transaction that does delete a locked row or change its key gets the stronger lock from
PostgreSQL at that statement.

Every ``select_for_update`` of the project goes through ``lock_rows`` (a test checks), so this
docstring stays the whole story.
"""

from typing import TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def lock_rows(queryset: QuerySet[M], *, skip_locked: bool = False) -> QuerySet[M]:
    """``queryset`` locking its own rows (not those of ``select_related`` tables) ``FOR NO
    KEY UPDATE`` until the transaction ends; ``skip_locked`` passes over rows another
    transaction holds (a claim). Take locks in the order of this module's docstring."""
    return queryset.select_for_update(of=("self",), no_key=True, skip_locked=skip_locked)
