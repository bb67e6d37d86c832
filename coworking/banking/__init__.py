"""Getting paid by bank transfer: the locations' bank accounts (``models.BankAccount``),
checking IBANs and BICs (``accounts``), the payment reference each invoice carries
(``references``: the Belgian structured communication or an ISO 11649 RF creditor
reference) and the EPC QR code ("GiroCode") printed on euro invoices (``epc_qr``)."""
