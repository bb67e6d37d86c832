"""What invoicing does when something happened (``coworking.events``); registered by
``InvoicingConfig.ready()``. After commit, it only queues work: a broker that is down leaves
the invoice ``pdf pending`` for the sweep and never undoes the issue.
"""

from coworking.events import Event, EventType, subscribe
from coworking.queue import enqueue


@subscribe(EventType.INVOICE_ISSUED)
def render_invoice_pdf(event: Event) -> None:
    """A newly issued invoice gets its PDF rendered by a worker."""
    from invoicing.tasks import render_invoice_pdf

    enqueue(render_invoice_pdf, event.instance.pk, if_down="The sweep will render it.")
