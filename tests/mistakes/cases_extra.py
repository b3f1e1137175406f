"""Mistaken submissions for the concepts, linear_collapse and softmax_properties exercises.

Same layout and rules as tests/mistakes/cases.py: each folder `tests/mistakes/<pitfall id>/`
holds one exercise module whose `broken_functions` carry the mistake, every other function being
correct; graded, it must lose points on those functions only and report `pitfall`. The correct
modules live in tests/mistakes/correct/ with the others.
"""

from __future__ import annotations

from tests.mistakes.cases import Case


def _case(module: str, *broken: str, pitfall: str) -> Case:
    return Case(module, frozenset(broken), pitfall)


CASES_EXTRA: dict[str, Case] = {
    "hidden_not_relu": _case("concepts", "hidden_layer_activation", pitfall="hidden_not_relu"),
    "unbounded_output": _case("concepts", "output_activation", pitfall="unbounded_output"),
    "policy_softmax": _case("concepts", "output_activation", pitfall="policy_softmax"),
    "binary_sigmoid": _case("concepts", "output_activation", pitfall="binary_sigmoid"),
    "tanh_zero_centred": _case("concepts", "tanh_over_sigmoid_reason",
                               pitfall="tanh_zero_centred"),
    "softmax_by_hand_not_normalised": _case("concepts", "softmax_by_hand",
                                            pitfall="softmax_by_hand_not_normalised"),
    "softmax_by_hand_rounding": _case("concepts", "softmax_by_hand",
                                      pitfall="softmax_by_hand_rounding"),
    "range_mixup": _case("concepts", "activation_range", pitfall="range_mixup"),
    "relu_unbounded": _case("concepts", "activation_range", pitfall="relu_unbounded"),
    "collapse_order": _case("linear_collapse", "collapse_linear", pitfall="collapse_order"),
    "collapse_bias": _case("linear_collapse", "collapse_linear", pitfall="collapse_bias"),
    "relu_piecewise_linear": _case("linear_collapse", "relu_breaks_collapse",
                                   pitfall="relu_piecewise_linear"),
    "logsumexp_overflow": _case("softmax_properties", "logsumexp", pitfall="logsumexp_overflow"),
    "logsumexp_shift_not_added_back": _case("softmax_properties", "logsumexp",
                                            pitfall="logsumexp_shift_not_added_back"),
    "boltzmann_temperature_multiplied": _case("softmax_properties", "boltzmann_policy",
                                              pitfall="boltzmann_temperature_multiplied"),
    "greedy_ties": _case("softmax_properties", "boltzmann_policy", pitfall="greedy_ties"),
    "lipschitz_inverse": _case("softmax_properties", "softmax_lipschitz_bound",
                               pitfall="lipschitz_inverse"),
}
