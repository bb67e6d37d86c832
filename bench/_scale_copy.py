"""The scale bench's copies: the rows of one slice of planned invoices, written with
``INSERT ... SELECT`` from the templates in the order the guards accept.

A copy's primary key is computed from the plan (``new_id``), so a foreign key to another
copied row is computed the same way (``ref``), without a look-up.
"""


def table_columns(cursor, table: str, *, skip=frozenset()) -> str:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "ORDER BY ordinal_position",
        [table],
    )
    return ", ".join(f'"{c}"' for (c,) in cursor.fetchall() if c not in skip)


def select_columns(cursor, table: str, alias: str, *, skip=frozenset(), override: dict) -> str:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "ORDER BY ordinal_position",
        [table],
    )
    return ", ".join(
        override.get(c, f'{alias}."{c}"') for (c,) in cursor.fetchall() if c not in skip
    )


def new_id(table: str, alias: str, k: str = "p.k") -> str:
    """The copy's id of the template row whose map row is ``alias``."""
    return (
        f"((SELECT base FROM scale_table WHERE name = '{table}') "
        f"+ ({k} - 1) * (SELECT width FROM scale_table WHERE name = '{table}') + {alias}.ord)"
    )


def ref(table: str, column: str) -> str:
    """The copy's id of the row a template's ``column`` points at (NULL stays NULL)."""
    return f"(SELECT {new_id(table, 'r')} FROM scale_map_{table} r WHERE r.old_id = {column})"


def _copy(cursor, table: str, override: dict, low, high, *, extra_join: str = "") -> None:
    """Copy the template rows of ``table`` for every planned invoice dated low..high."""
    override = {"id": new_id(table, "m"), **override}
    cursor.execute(
        f"""
        INSERT INTO {table} ({table_columns(cursor, table)})
        SELECT {select_columns(cursor, table, "t", override=override)}
        FROM scale_plan p
        JOIN scale_map_{table} m ON m.tpl_invoice = p.tpl_invoice
        JOIN {table} t ON t.id = m.old_id
        JOIN coworking_customer c ON c.id = p.customer_id
        {extra_join}
        WHERE p.issue_date BETWEEN %(low)s AND %(high)s
        ORDER BY p.issue_date, p.k, m.ord
        """,
        {"low": low, "high": high},
    )


def _text(column: str) -> str:
    """A template's text with the template's numbers and customer name replaced."""
    return (
        f"replace(replace(replace({column}, p.tpl_number, p.number), "
        f"coalesce(p.tpl_cn_number, '#'), coalesce(p.cn_number, '#')), "
        f"p.tpl_customer_name, c.billing_name)"
    )


def _days(column: str) -> str:
    return f"{column} + p.delta"


def _moment(column: str) -> str:
    return f"{column} + make_interval(days => p.delta)"


BUYER = "t.buyer || jsonb_build_object('name', c.billing_name, 'email', c.billing_email)"


def copy_slice(cursor, low, high) -> None:
    invoice = ref("invoicing_invoice", "t.invoice_id")
    _copy(
        cursor,
        "invoicing_invoice",
        {
            "state": "'draft'",
            "sequence_number": "NULL",
            "number": "''",
            "issue_date": _days("t.issue_date"),
            "due_date": _days("t.due_date"),
            "amount_paid": "0",
            "amount_credited": "0",
            "created_at": _moment("t.created_at"),
            "issued_at": "NULL",
            "cancelled_at": "NULL",
            "cancellation_channel": "''",
            "cancellation_reason": "''",
            "customer_id": "p.customer_id",
            "buyer": BUYER,
            "buyer_reference": "''",
            "payment_reference": "''",
            "ledger_entry_id": "NULL",
        },
        low,
        high,
    )
    _copy(cursor, "invoicing_invoiceline", {"invoice_id": invoice}, low, high)
    _copy(
        cursor,
        "coworking_ledgerentry",
        {
            "customer_id": "p.customer_id",
            "description": _text("t.description"),
            "document_number": "p.number",
            "document_date": _days("t.document_date"),
            "created_at": _moment("t.created_at"),
        },
        low,
        high,
    )
    # Issue the drafts: number, state, amounts and ledger entry as the template has them.
    cursor.execute(
        f"""
        UPDATE invoicing_invoice i SET
            state = t.state, sequence_number = p.seq, number = p.number,
            amount_paid = t.amount_paid, amount_credited = t.amount_credited,
            issued_at = {_moment("t.issued_at")}, cancelled_at = {_moment("t.cancelled_at")},
            cancellation_channel = t.cancellation_channel,
            cancellation_reason = t.cancellation_reason,
            buyer_reference = {_text("t.buyer_reference")},
            payment_reference = CASE WHEN t.payment_reference LIKE 'RF%%' THEN
                'RF' || lpad((98 - ((p.rf_body || '271500')::numeric %% 97))::text, 2, '0')
                || p.ref_body ELSE t.payment_reference END,
            ledger_entry_id = {ref("coworking_ledgerentry", "t.ledger_entry_id")}
        FROM scale_plan p
        JOIN scale_map_invoicing_invoice m ON m.tpl_invoice = p.tpl_invoice
        JOIN invoicing_invoice t ON t.id = m.old_id
        JOIN coworking_customer c ON c.id = p.customer_id
        WHERE i.id = {new_id("invoicing_invoice", "m")}
            AND p.issue_date BETWEEN %(low)s AND %(high)s
        """,
        {"low": low, "high": high},
    )
    _copy(
        cursor,
        "invoicing_payment",
        {
            "invoice_id": invoice,
            "received_on": _days("t.received_on"),
            "created_at": _moment("t.created_at"),
            "ledger_entry_id": ref("coworking_ledgerentry", "t.ledger_entry_id"),
        },
        low,
        high,
    )
    _copy(
        cursor,
        "credits_creditnote",
        {
            "invoice_id": invoice,
            "customer_id": "p.customer_id",
            "invoice_number": "p.number",
            "invoice_issue_date": _days("t.invoice_issue_date"),
            "sequence_number": "p.cn_seq",
            "number": "p.cn_number",
            "issue_date": _days("t.issue_date"),
            "created_at": "transaction_timestamp()",
            "buyer": BUYER,
            "buyer_reference": _text("t.buyer_reference"),
            "ledger_entry_id": ref("coworking_ledgerentry", "t.ledger_entry_id"),
        },
        low,
        high,
    )
    _copy(
        cursor,
        "credits_creditnoteline",
        {
            "credit_note_id": ref("credits_creditnote", "t.credit_note_id"),
            "invoice_line_id": ref("invoicing_invoiceline", "t.invoice_line_id"),
        },
        low,
        high,
    )
    _copy(
        cursor,
        "credits_cancellationevent",
        {
            "invoice_id": invoice,
            "credit_note_id": ref("credits_creditnote", "t.credit_note_id"),
            "started_at": _moment("t.started_at"),
            "created_at": _moment("t.created_at"),
        },
        low,
        high,
    )
    source_table = {
        "invoice": "invoicing_invoice",
        "payment": "invoicing_payment",
        "credit_note": "credits_creditnote",
    }
    source_id = "split_part(t.source, ':', 2)::bigint"
    source = (
        "CASE split_part(t.source, ':', 1) "
        + " ".join(
            f"WHEN '{kind}' THEN '{kind}:' || {ref(table, source_id)}"
            for kind, table in source_table.items()
        )
        + " END"
    )
    _copy(
        cursor,
        "books_journalentry",
        {
            "fiscal_year": "p.year",
            "number": "j.number",
            "date": _days("t.date"),
            "document_number": _text("t.document_number"),
            "document_date": _days("t.document_date"),
            "corrects": _text("t.corrects"),
            "label": _text("t.label"),
            "source": source,
            "posted_at": _moment("t.posted_at"),
            "customer_id": "CASE WHEN t.customer_id IS NULL THEN NULL ELSE p.customer_id END",
        },
        low,
        high,
        extra_join="JOIN scale_journal j ON j.k = p.k AND j.old_id = t.id",
    )
    _copy(
        cursor,
        "books_journalline",
        {
            "entry_id": ref("books_journalentry", "t.entry_id"),
            "customer_id": "CASE WHEN t.customer_id IS NULL THEN NULL ELSE p.customer_id END",
            "lettering": _text("t.lettering"),
        },
        low,
        high,
    )
