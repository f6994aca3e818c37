"""scikit-learn's estimator checks over every skmvc estimator (small settings)."""

from conftest import ESTIMATORS, EXPECTED_FAILED_CHECKS
from sklearn.utils.estimator_checks import parametrize_with_checks


@parametrize_with_checks(
    [factory() for factory in ESTIMATORS.values()],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
