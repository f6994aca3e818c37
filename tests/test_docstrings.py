"""Every public name has a numpydoc docstring with an Examples section (run as doctests by
``pytest --doctest-modules skmvc``)."""

import importlib
import inspect

import pytest

MODULES = [
    "skmvc",
    "skmvc.nn",
    "skmvc.losses",
    "skmvc.metrics",
    "skmvc.preprocessing",
    "skmvc.datasets",
]


def public_names():
    for modname in MODULES:
        module = importlib.import_module(modname)
        for name in module.__all__:
            obj = getattr(module, name)
            own = getattr(obj, "__module__", "").startswith("skmvc")  # not sklearn re-exports
            if own and (inspect.isclass(obj) or inspect.isfunction(obj)):
                yield f"{modname}.{name}", obj


@pytest.mark.parametrize(
    "qualname, obj", list(public_names()), ids=lambda x: x if isinstance(x, str) else ""
)
def test_public_name_has_examples(qualname, obj):
    doc = inspect.getdoc(obj) or ""
    assert "Examples\n--------\n>>>" in doc, f"{qualname} has no Examples section"
