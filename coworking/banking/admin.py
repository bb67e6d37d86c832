"""The location's bank accounts, edited inline on its admin page (one row per currency)."""

from django.contrib import admin

from coworking.banking.models import BankAccount


class BankAccountInline(admin.TabularInline):
    model = BankAccount
    extra = 0
    fields = ["currency", "account_holder", "iban", "bic"]
