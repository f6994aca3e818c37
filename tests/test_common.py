"""scikit-learn's estimator checks over every skmvc estimator (small settings)."""

from conftest import CONTRACT, EXPECTED_FAILED_CHECKS, sklearn_check_instance
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmvc.base import registered_methods


@parametrize_with_checks(
    [sklearn_check_instance(name) for name in CONTRACT],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_every_registered_method_has_small_test_settings():
    """A new method registers itself; the shared tests need its small settings too."""
    names = {cls.__name__ for cls in registered_methods().values()}
    assert names == set(CONTRACT)
