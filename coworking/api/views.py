"""Customer account endpoints (ledger, balance) and ``me``. Thin: scope, call, render."""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from coworking.api.pagination import StandardPagination
from coworking.api.problems import PROBLEM_MEDIA_TYPE, problem
from coworking.api.serializers import (
    BalanceSerializer,
    LedgerEntrySerializer,
    LedgerFilterSerializer,
    MeSerializer,
)
from coworking.error_codes import CoworkingErrorCode
from coworking.selectors import (
    customer_balance,
    customer_ledger,
    portal_customer,
    visible_customers,
)


class CustomerAccountViewSet(viewsets.GenericViewSet):
    """A customer's ledger and balance: a member sees their own customer's, staff with
    ``coworking.view_customer`` any customer's."""

    pagination_class = StandardPagination
    serializer_class = LedgerEntrySerializer

    def get_queryset(self):
        return visible_customers(user=self.request.user)

    @extend_schema(
        summary="A customer's ledger",
        description=gettext_lazy(
            "The customer's account entries, newest first, 50 a page: debits for issued "
            "invoices (positive), credits for payments and credit notes (negative)."
        ),
        parameters=[LedgerFilterSerializer],
        responses={200: LedgerEntrySerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def ledger(self, request, pk=None):
        customer = self.get_object()
        filters = LedgerFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        entries = customer_ledger(
            customer=customer, currency=filters.validated_data.get("currency")
        )
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(LedgerEntrySerializer(page, many=True).data)

    @extend_schema(
        summary="A customer's balance per currency",
        description=gettext_lazy(
            "The sum of the ledger per currency; negative means credit the customer holds."
        ),
        responses={200: BalanceSerializer},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def balance(self, request, pk=None):
        customer = self.get_object()
        balances = customer_balance(customer=customer)
        data = {
            "customer": customer.pk,
            "balances": [
                {"currency": currency, "amount": money} for currency, money in balances.items()
            ],
        }
        return Response(BalanceSerializer(data).data)


class MeView(APIView):
    @extend_schema(
        summary="Who you are",
        description=gettext_lazy(
            "The authenticated user and, for a portal user, their customer (whose id the "
            "ledger and balance endpoints take)."
        ),
        responses={200: MeSerializer},
    )
    def get(self, request):
        customer = portal_customer(user=request.user)
        if customer is not None:
            customer = type(customer).objects.select_related("location").get(pk=customer.pk)
        data = {
            "username": request.user.get_username(),
            "is_staff": request.user.is_staff,
            "customer": customer,
        }
        return Response(MeSerializer(data).data)


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any other path under the API: a 404 problem rather than Django's HTML page."""
    body = problem(
        status_code=404, code=CoworkingErrorCode.NOT_FOUND, detail=_("There is no such endpoint.")
    )
    return JsonResponse(body, status=404, content_type=PROBLEM_MEDIA_TYPE)
