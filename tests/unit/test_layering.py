"""The apps' relations run one way, like their imports (import-linter checks those): a lower
app never names a higher one in a model field, a migration dependency, or a string that
names a model, an admin or API URL, or an ORM look-up through a relation the higher app
declares. ``config`` is on top and may name every app."""

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db.migrations.loader import MigrationLoader
from django.urls import URLPattern, URLResolver, get_resolver

# Lowest first.
LAYERS = ["coworking", "invoicing", "credits", "webhooks"]


def _rank(label: str) -> int | None:
    return LAYERS.index(label) if label in LAYERS else None


def _higher(label: str) -> list[str]:
    return LAYERS[LAYERS.index(label) + 1 :]


def _root(label: str) -> Path:
    return Path(apps.get_app_config(label).path)


def _sources(label: str) -> list[Path]:
    root = _root(label)
    return sorted(
        path
        for pattern in ("*.py", "*.html", "*.txt")
        for path in root.rglob(pattern)
        if "__pycache__" not in path.parts
    )


QUERYSET_METHODS = {"select_related", "prefetch_related", "values", "values_list", "only"}


def _strings(path: Path) -> list[tuple[int, str]]:
    """The string literals of a Python module (line, value), with the names of keyword
    arguments (``filter(invoices__number=...)``); a template's lines whole."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return list(enumerate(text.splitlines(), start=1))
    strings = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.append((node.lineno, node.value))
        elif isinstance(node, ast.keyword) and node.arg and "__" in node.arg:
            strings.append((node.lineno, node.arg))
    return strings


def _related_paths(path: Path) -> list[tuple[int, str]]:
    """The paths given to ``select_related``, ``prefetch_related``, ``values``... ."""
    if path.suffix != ".py":
        return []
    return [
        (node.lineno, arg.value)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in QUERYSET_METHODS
        for arg in node.args
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    ]


def _api_url_names() -> dict[str, str]:
    """Each API URL name (``api:...``) with the app whose view answers it."""
    names: dict[str, str] = {}

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name and namespace == "api":
                view = getattr(pattern.callback, "cls", None) or getattr(
                    pattern.callback, "view_class", pattern.callback
                )
                names[f"api:{pattern.name}"] = view.__module__.split(".")[0]

    walk(get_resolver().url_patterns, None)
    return names


def _reverse_lookups(label: str) -> dict[str, str]:
    """The look-up names that relations of higher apps add to this app's models (a
    ``ForeignKey`` of ``credits`` onto ``invoicing.Invoice`` adds ``credit_notes``), each
    with the app that declares it."""
    names = {}
    for model in apps.get_app_config(label).get_models():
        for field in model._meta.get_fields():
            if not field.auto_created or not field.is_relation:
                continue
            declarer = field.related_model._meta.app_label
            if declarer in _higher(label) and not field.hidden:
                names[field.remote_field.related_query_name()] = declarer
    return names


@pytest.mark.parametrize("label", LAYERS)
def test_model_fields_name_no_higher_app(label):
    breaches = [
        f"{model.__name__}.{field.name} → {field.related_model._meta.label}"
        for model in apps.get_app_config(label).get_models()
        for field in model._meta.get_fields()
        if field.is_relation
        and not field.auto_created
        and field.related_model is not None
        and field.related_model._meta.app_label in _higher(label)
    ]
    assert breaches == []


@pytest.mark.parametrize("label", LAYERS)
def test_migrations_depend_on_no_higher_app(label):
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    breaches = [
        f"{name} depends on {dependency}"
        for key, migration in graph.nodes.items()
        if key[0] == label
        for dependency in migration.dependencies
        for name in [f"{key[0]}.{key[1]}"]
        if dependency[0] in _higher(label)
    ]
    assert breaches == []


@pytest.mark.parametrize("label", LAYERS[:-1])
def test_strings_name_no_higher_app(label):
    """``"credits.CreditNote"``, ``admin:credits_creditnote_change``, ``api:creditnote-detail``
    and ``credit_notes__issue_date`` (a look-up through credits' relation) in a lower app."""
    higher = _higher(label)
    api_names = {name: app for name, app in _api_url_names().items() if app in higher}
    lookups = _reverse_lookups(label)
    model_names = re.compile(rf"^({'|'.join(higher)})\.\w+")
    url_names = re.compile(rf"admin:({'|'.join(higher)})_\w+|api:[\w-]+")
    joined = "|".join(map(re.escape, lookups)) or "$^"
    lookup_names = re.compile(rf"(?:^|__)({joined})__\w+")
    related_paths = re.compile(rf"^({joined})(__\w+)?$")
    breaches = []
    for path in _sources(label):
        for line, value in _strings(path):
            found = [m.group(0) for m in url_names.finditer(value)]
            found = [n for n in found if not n.startswith("api:") or n in api_names]
            if path.suffix == ".py":
                found += [m.group(0) for m in [model_names.search(value)] if m]
                found += [m.group(0) for m in lookup_names.finditer(value)]
            breaches += [f"{path.relative_to(_root(label).parent)}:{line}: {n}" for n in found]
        for line, value in _related_paths(path):
            if related_paths.match(value):
                breaches.append(f"{path.relative_to(_root(label).parent)}:{line}: {value}")
    assert breaches == []


def test_the_checks_see_a_higher_name():
    """The patterns above find what they are for (so an empty list means something)."""
    lookups = _reverse_lookups("invoicing")
    assert lookups.get("credit_notes") == "credits"
    assert _api_url_names()["api:creditnote-detail"] == "credits"
    assert _reverse_lookups("coworking").get("invoices") == "invoicing"
