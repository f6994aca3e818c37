"""scikit-learn's estimator checks over every skmvc estimator (small settings)."""

from conftest import ESTIMATORS, EXPECTED_FAILED_CHECKS, sklearn_check_instance
from sklearn.utils.estimator_checks import parametrize_with_checks


@parametrize_with_checks(
    [sklearn_check_instance(name) for name in ESTIMATORS],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
