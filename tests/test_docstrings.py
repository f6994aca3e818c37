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


def test_every_parameter_of_every_method_is_documented_in_its_docstring():
    """help(CMMCClustering) shows every parameter in full, the shared ones included (they
    are written once, in skmvc._docs)."""
    from skmvc.base import registered_methods

    for cls in registered_methods().values():
        if not cls.__module__.startswith("skmvc."):
            continue  # a test's toy method
        documented = {
            name.strip()
            for line in cls.__doc__.splitlines()
            if line.startswith("    ") and not line.startswith("     ") and " : " in line
            for name in line.split(" : ")[0].split(",")
        }
        missing = [n for n in cls._get_param_names() if n not in documented]
        assert not missing, f"{cls.__name__} does not document {missing}"
        assert "<shared parameters>" not in cls.__doc__
