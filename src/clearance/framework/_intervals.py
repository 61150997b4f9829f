"""Confidence intervals for scores: exact (Clopper-Pearson) for proportions, normal otherwise.

Pure arithmetic on the standard library: the regularized incomplete beta function (Lentz's
continued fraction) and its inverse (Newton steps kept inside a bisection bracket).
"""

from __future__ import annotations

import math
from statistics import NormalDist

_EPS = 1e-15
_STEP = 1e-14
_TINY = 1e-300
_MAX_TERMS = 10_000


def normal_interval(value: float, stderr: float, confidence: float) -> tuple[float, float]:
    """value ± z·stderr, z the two-sided normal quantile of `confidence`."""
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    return value - z * stderr, value + z * stderr


def clopper_pearson(successes: float, trials: int, confidence: float) -> tuple[float, float]:
    """The exact two-sided interval for a proportion: `successes` of `trials` at `confidence`.

    `successes` may be fractional (the sum of scores between 0 and 1): the beta-quantile form of
    the interval is then used as is. Never of zero width: 0 of 10 gives [0, 0.3085] at 95%.
    """
    if trials < 1:
        raise ValueError("an interval needs at least one trial")
    if not 0 <= successes <= trials:
        raise ValueError("successes must lie between 0 and the number of trials")
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie strictly between 0 and 1")
    alpha = 1 - confidence
    failures = trials - successes
    # none or all succeeded: the beta quantile has a closed form
    if successes == 0:
        lower = 0.0
    elif failures == 0:
        lower = (alpha / 2) ** (1 / trials)
    else:
        lower = beta_quantile(alpha / 2, successes, failures + 1)
    if failures == 0:
        upper = 1.0
    elif successes == 0:
        upper = 1 - (alpha / 2) ** (1 / trials)
    else:
        upper = beta_quantile(1 - alpha / 2, successes + 1, failures)
    return lower, upper


def beta_cdf(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if a <= 0 or b <= 0:
        raise ValueError("beta parameters must be positive")
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(_log_beta_kernel(x, a, b))
    # the continued fraction converges fast below the mean; above it, use the symmetry
    if x < (a + 1) / (a + b + 2):
        return front * _continued_fraction(x, a, b) / a
    return 1.0 - front * _continued_fraction(1 - x, b, a) / b


def beta_quantile(p: float, a: float, b: float) -> float:
    """The x in [0, 1] with I_x(a, b) = p."""
    if not 0 <= p <= 1:
        raise ValueError("p must lie between 0 and 1")
    if p == 0:
        return 0.0
    if p == 1:
        return 1.0
    low, high = 0.0, 1.0
    x = _start(p, a, b)
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    for _ in range(200):
        error = beta_cdf(x, a, b) - p
        if error == 0:
            return x
        if error < 0:
            low = x
        else:
            high = x
        density = math.exp(log_norm + (a - 1) * math.log(x) + (b - 1) * math.log1p(-x))
        step = error / density if density > 0 else math.inf
        # assessments round bounds to 12 decimals; a step of 1e-14 of the value is converged
        if abs(step) <= _STEP * max(x, _TINY):
            return min(max(x - step, low), high)
        candidate = x - step
        if not low < candidate < high:
            candidate = (low + high) / 2
        if high - low <= _EPS:
            return candidate
        x = candidate
    return x


def _start(p: float, a: float, b: float) -> float:
    """A first guess from the normal approximation, kept inside (0, 1)."""
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    guess = mean + NormalDist().inv_cdf(p) * sd
    return min(max(guess, 1e-12), 1 - 1e-12)


def _log_beta_kernel(x: float, a: float, b: float) -> float:
    return (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )


def _continued_fraction(x: float, a: float, b: float) -> float:
    """Lentz's evaluation of the incomplete beta function's continued fraction."""
    qab, qap, qam = a + b, a + 1, a - 1
    c = 1.0
    d = 1 - qab * x / qap
    d = 1 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_TERMS):
        m2 = 2 * m
        numerator = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + numerator * d
        d = 1 / (d if abs(d) > _TINY else _TINY)
        c = 1 + numerator / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        numerator = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + numerator * d
        d = 1 / (d if abs(d) > _TINY else _TINY)
        c = 1 + numerator / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1) < _EPS:
            return h
    return h
