"""Webhooks in the admin: endpoints (with their recent deliveries, Send again and the secret
shown once), deliveries with their attempts, and the event outbox (read-only).

Everything that writes goes through ``webhooks.services`` and ``webhooks.delivery``; the
forms apply the services' own checks so a refusal is a form error.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from coworking.events import EventType
from webhooks.delivery import delivery_send_again, endpoint_send_again_failed
from webhooks.errors import InvalidEndpoint, UnsafeEndpointUrl
from webhooks.models import Attempt, Delivery, Endpoint, Event
from webhooks.selectors import endpoint_failed_deliveries, endpoint_recent_deliveries
from webhooks.services import (
    endpoint_check,
    endpoint_create,
    endpoint_rotate_secret,
    endpoint_update,
)


class EndpointForm(forms.ModelForm):
    url = forms.URLField(label=_lazy("URL"), max_length=2000, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_lazy("Event types"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Endpoint
        fields = ["url", "description", "event_types", "is_active"]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            endpoint_check(
                url=data.get("url", ""),
                description=data.get("description", ""),
                event_types=data.get("event_types", []),
            )
        except UnsafeEndpointUrl as error:
            self.add_error("url", forms.ValidationError(error.message, code=error.code))
        except InvalidEndpoint as error:
            raise forms.ValidationError(error.message, code=error.code) from None
        return data


def _when(moment) -> str:
    """A moment as the admin writes every date and time (the language's DATETIME_FORMAT)."""
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _status(endpoint: Endpoint) -> str:
    if endpoint.disabled_at:
        return _(
            "Disabled automatically on %(disabled)s: it had failed continuously since %(since)s."
        ) % {
            "disabled": _when(endpoint.disabled_at),
            "since": _when(endpoint.failing_since) if endpoint.failing_since else "?",
        }
    if not endpoint.is_active:
        return _("Inactive")
    if endpoint.failing_since:
        return _("Active, failing since %(since)s") % {"since": _when(endpoint.failing_since)}
    return _("Active")


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    """Endpoints: the secret is shown once, when created or rotated. The page of an endpoint
    lists its recent deliveries with **Send again** (one, or all failed ones)."""

    form = EndpointForm
    list_display = ["url", "description", "types", "status"]
    search_fields = ["url", "description"]
    readonly_fields = ["secret_hint", "previous_secret_expires_at", "status", "created_at"]
    change_form_template = "admin/webhooks/endpoint/change_form.html"

    def get_fields(self, request, obj=None):
        fields = ["url", "description", "event_types", "is_active"]
        return fields if obj is None else [*fields, *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    @admin.display(description=_lazy("event types"))
    def types(self, obj):
        return ", ".join(obj.event_types)

    @admin.display(description=_lazy("status"))
    def status(self, obj):
        return _status(obj)

    @admin.display(description=_lazy("signing secret"))
    def secret_hint(self, obj):
        return _("whsec_…%(end)s (shown once when created or rotated)") % {"end": obj.secret[-4:]}

    # --- Saving through the services; the new secret is shown once --------------------------

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            "url": data["url"],
            "description": data.get("description", ""),
            "event_types": data["event_types"],
            "is_active": data.get("is_active", False),
        }
        if change:
            endpoint_update(endpoint=obj, **fields)
        else:
            created, request._webhook_secret = endpoint_create(**fields)
            obj.pk = created.pk
        obj.refresh_from_db()

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_webhook_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return self._show_secret(request, obj, secret, created=True)

    def _show_secret(self, request, endpoint, secret, *, created):
        return TemplateResponse(
            request,
            "admin/webhooks/endpoint/secret.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "endpoint": endpoint,
                "secret": secret,
                "created": created,
                "title": _("Signing secret of %(endpoint)s") % {"endpoint": endpoint},
                "change_url": reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]),
            },
        )

    # --- The endpoint's page: its state and recent deliveries --------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        endpoint = self.get_object(request, unquote(object_id))
        extra_context = extra_context or {}
        if endpoint is not None:
            if endpoint.disabled_at and request.method == "GET":
                self.message_user(
                    request,
                    _status(endpoint)
                    + " "
                    + _(
                        "Fix the receiver, tick Active and save; then Send again its failed "
                        "deliveries."
                    ),
                    messages.WARNING,
                )
            extra_context.update(
                recent_deliveries=endpoint_recent_deliveries(endpoint=endpoint),
                failed_count=endpoint_failed_deliveries(endpoint=endpoint).count(),
                may_send_again=request.user.has_perm("webhooks.change_delivery"),
                all_deliveries_url=reverse("admin:webhooks_delivery_changelist")
                + f"?endpoint__id__exact={endpoint.pk}",
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/rotate-secret/",
                self.admin_site.admin_view(self.rotate_secret_view),
                name="webhooks_endpoint_rotate_secret",
            ),
            path(
                "<path:object_id>/send-again/",
                self.admin_site.admin_view(self.send_again_view),
                name="webhooks_endpoint_send_again",
            ),
        ]
        return own + super().get_urls()

    def _endpoint_or_404(self, request, object_id, *, permission: str) -> Endpoint:
        endpoint = self.get_object(request, unquote(object_id))
        if endpoint is None:
            raise Http404(_("This webhook endpoint does not exist."))
        if not request.user.has_perm(permission):
            raise PermissionDenied
        return endpoint

    def rotate_secret_view(self, request, object_id):
        """GET: what rotating does; POST: rotate and show the new secret once."""
        endpoint = self._endpoint_or_404(request, object_id, permission="webhooks.change_endpoint")
        if request.method == "POST":
            secret = endpoint_rotate_secret(endpoint=endpoint)
            endpoint.refresh_from_db()
            return self._show_secret(request, endpoint, secret, created=False)
        return TemplateResponse(
            request,
            "admin/webhooks/endpoint/rotate_secret.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "endpoint": endpoint,
                "title": _("Rotate the signing secret of %(endpoint)s") % {"endpoint": endpoint},
                "overlap_hours": round(settings.WEBHOOKS_SECRET_OVERLAP / 3600, 1),
                "change_url": reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]),
            },
        )

    def send_again_view(self, request, object_id):
        """POST only: send again one delivery (``delivery``) or all failed ones (``failed``)."""
        endpoint = self._endpoint_or_404(request, object_id, permission="webhooks.change_delivery")
        change_url = reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        delivery_id = request.POST.get("delivery", "")
        if delivery_id:
            delivery = get_object_or_404(
                Delivery, pk=delivery_id if delivery_id.isdigit() else None, endpoint=endpoint
            )
            delivery_send_again(delivery=delivery)
            self.message_user(
                request,
                _("Delivery of %(event)s queued again.") % {"event": delivery.event},
                messages.SUCCESS,
            )
        else:
            count = endpoint_send_again_failed(endpoint=endpoint)
            self.message_user(
                request,
                ngettext(
                    "%(count)s failed delivery queued again.",
                    "%(count)s failed deliveries queued again.",
                    count,
                )
                % {"count": count},
                messages.SUCCESS if count else messages.INFO,
            )
        if not endpoint.is_active:
            self.message_user(
                request,
                _("The endpoint is inactive: deliveries go out once it is active again."),
                messages.WARNING,
            )
        return HttpResponseRedirect(change_url)


class AttemptInline(admin.TabularInline):
    model = Attempt
    fields = [
        "number",
        "started_at",
        "duration_ms",
        "status_code",
        "succeeded",
        "error",
        "response_excerpt",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("webhooks.view_delivery")  # attempts belong to it


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Deliveries are made by the system; staff read them and send them again."""

    list_display = [
        "created_at",
        "event_type",
        "endpoint",
        "status",
        "attempt_count",
        "last_status_code",
        "next_attempt_at",
    ]
    list_filter = ["status", "event__type", "endpoint"]
    list_select_related = ["event", "endpoint"]
    show_full_result_count = False
    actions = ["send_again"]
    inlines = [AttemptInline]
    fields = [
        "event",
        "endpoint",
        "status",
        "attempt_count",
        "next_attempt_at",
        "last_attempt_at",
        "delivered_at",
        "last_status_code",
        "last_error",
        "body",
    ]
    readonly_fields = fields

    @admin.display(description=_lazy("event"), ordering="event__type")
    def event_type(self, obj):
        return obj.event.type

    @admin.display(description=_lazy("body sent"))
    def body(self, obj):
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", obj.event.body)

    @admin.action(permissions=["change"], description=_lazy("Send again"))
    def send_again(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        for delivery_id in ids:
            delivery_send_again(delivery=delivery_id)
        self.message_user(
            request,
            ngettext(
                "%(count)s delivery queued again.", "%(count)s deliveries queued again.", len(ids)
            )
            % {"count": len(ids)},
            messages.SUCCESS,
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "show_save": False}
        extra_context.update(show_save_and_continue=False, show_save_and_add_another=False)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """The outbox, read-only: what happened, in which order per invoice, what was sent."""

    list_display = ["created_at", "type", "invoice", "sequence", "dispatched_at"]
    list_filter = ["type"]
    list_select_related = ["invoice"]
    search_fields = ["=id", "invoice__number"]
    show_full_result_count = False
    fields = [
        "id",
        "type",
        "invoice",
        "sequence",
        "object_type",
        "object_id",
        "created_at",
        "dispatched_at",
        "api_version",
        "body",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
