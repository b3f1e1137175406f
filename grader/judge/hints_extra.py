"""Pitfalls of the concepts, linear_collapse and softmax_properties exercises.

Same format as grader.judge.hints: a test names the pitfall it is designed to catch in its
`grade` marker, and a detector in grader.judge.checks_extra raises PitfallDetected with the same
id when it recognises the misconception in a wrong answer. The wording is written for students.
"""

from __future__ import annotations

from grader.judge.hints import Pitfall

_CATALOGUE: tuple[Pitfall, ...] = (
    # --- concepts -------------------------------------------------------------------------------
    Pitfall(
        "hidden_not_relu",
        "ReLU is the standard activation for hidden layers: it is fast, gives sparse outputs "
        "and does not saturate for positive z, so gradients do not vanish the way they do "
        "through sigmoid and tanh.",
        "Answer 'relu'. Sigmoid and softmax belong on output layers (a binary probability, a "
        "distribution over actions); inside the network ReLU is the default.",
    ),
    Pitfall(
        "unbounded_output",
        "DQN outputs Q-values and a critic outputs a value estimate; both can be any real "
        "number, so the last layer has no activation (a linear output).",
        "Answer 'linear' (or 'none', 'identity') for 'dqn' and 'critic'. A sigmoid, tanh or "
        "softmax on the last layer would squash the estimate into a fixed range, and a ReLU "
        "would forbid negative returns.",
    ),
    Pitfall(
        "policy_softmax",
        "A policy network outputs action probabilities: non-negative numbers that sum to 1 "
        "over the actions, which is exactly what softmax produces.",
        "Answer 'softmax' for 'policy'. Sigmoid gives each action a number in (0, 1) on its "
        "own, and those numbers need not sum to 1.",
    ),
    Pitfall(
        "binary_sigmoid",
        "A binary classifier outputs one probability, a single number in (0, 1): that is the "
        "sigmoid's range.",
        "Answer 'sigmoid' for 'binary'. Softmax is for a distribution over several classes; "
        "with one output unit it always returns 1.0.",
    ),
    Pitfall(
        "tanh_zero_centred",
        "Tanh is preferred over sigmoid in hidden layers because its outputs are zero-centred: "
        "they lie in (-1, 1) around 0, while sigmoid's lie in (0, 1) and are always positive.",
        "Say that tanh is zero-centred (or 'centred at 0', or 'has mean 0'). The reason it "
        "matters: when every input of the next layer is positive, as with sigmoid, the "
        "gradients of that layer's weights all share one sign and training zig-zags.",
    ),
    Pitfall(
        "softmax_by_hand_not_normalised",
        "Softmax divides each e^(z_i) by the sum of all of them, so the three results are "
        "probabilities that add up to 1.",
        "Step 1: e^1, e^2, e^3 (about 2.718, 7.389, 20.086). Step 2: their sum (about 30.19). "
        "Step 3: divide each of the three by that sum.",
    ),
    Pitfall(
        "softmax_by_hand_rounding",
        "Rounding the intermediate steps of a hand computation to two decimals moves the "
        "result by several thousandths.",
        "Keep four significant digits in every step (e^1 = 2.718, not 2.7) and give the "
        "answer to at least three decimals; the check allows 0.001 either way.",
    ),
    Pitfall(
        "range_mixup",
        "Sigmoid squashes z into (0, 1) and tanh into (-1, 1); tanh's range is the one "
        "centred on 0.",
        "Check the limits: sigmoid(0) = 0.5 and sigmoid tends to 0 and 1; tanh(0) = 0 and "
        "tanh tends to -1 and 1.",
    ),
    Pitfall(
        "relu_unbounded",
        "ReLU has no upper bound: max(0, z) = z for every positive z, however large, so its "
        "range is [0, inf).",
        "Return the upper end as float('inf') (or np.inf), not a large finite number.",
    ),
    # --- linear_collapse --------------------------------------------------------------------------
    Pitfall(
        "collapse_order",
        "Matrix products compose right to left: in W2 (W1 x) the matrix W1 acts on x first, "
        "so the combined matrix is W2 @ W1, not W1 @ W2.",
        "Write A = W2 @ W1. With shapes W1: (h, n) and W2: (m, h), W2 @ W1 has shape (m, n), "
        "mapping an n-vector x to an m-vector; W1 @ W2 does not even fit unless n = m.",
    ),
    Pitfall(
        "collapse_bias",
        "The first layer's whole output W1 x + b1 goes through W2, so the first bias reaches "
        "the output as W2 @ b1: c = W2 @ b1 + b2, not b1 + b2.",
        "Expand W2 (W1 x + b1) + b2 = (W2 @ W1) x + (W2 @ b1 + b2) and read off c. Check it on "
        "a random x: A @ x + c must equal the two-layer output.",
    ),
    Pitfall(
        "relu_piecewise_linear",
        "ReLU only changes a unit's value where its pre-activation is negative, and that only "
        "changes the output if the next layer uses that unit; for other inputs the ReLU "
        "network gives exactly A x + c. A ReLU network is linear piece by piece.",
        "Compute both outputs, W2 @ relu(W1 @ x + b1) + b2 and A @ x + c, and compare them "
        "(np.allclose); do not decide from the pre-activations alone.",
    ),
    # --- softmax_properties -----------------------------------------------------------------------
    Pitfall(
        "logsumexp_overflow",
        "np.exp overflows to inf for large z (and every term underflows to 0 for very "
        "negative z, making the log -inf), so log(sum(exp(z))) must not be computed as written.",
        "Use log(sum(exp(z))) = m + log(sum(exp(z - m))) with m = np.max(z, axis=-1, "
        "keepdims=True): every exponent is then <= 0 and one term is exactly 1.",
    ),
    Pitfall(
        "logsumexp_shift_not_added_back",
        "Subtracting the maximum m inside the exponential changes log-sum-exp by exactly m "
        "(unlike softmax, which is unchanged by a shift), so m must be added back.",
        "Return m + log(sum(exp(z - m))), with m the maximum of each row. Check: "
        "logsumexp([1000, 1000]) = 1000 + log 2.",
    ),
    Pitfall(
        "boltzmann_temperature_multiplied",
        "In a Boltzmann policy the temperature divides the Q-values, softmax(q / T): a small "
        "temperature makes the agent greedy and a large one makes it explore uniformly. "
        "Multiplying by T reverses both limits.",
        "Compute softmax(q_values / temperature) over the last axis, shifting each row by its "
        "maximum so a tiny temperature stays finite.",
    ),
    Pitfall(
        "greedy_ties",
        "As the temperature goes to 0 the Boltzmann policy tends to the greedy policy, but "
        "tied best actions share the probability evenly; and at any positive temperature it "
        "is still a softmax, not an exact one-hot argmax.",
        "Do not special-case small temperatures with np.argmax: the max-shifted softmax of "
        "q / T already gives [0, 0.5, 0.5, 0] for two tied best actions and stays finite.",
    ),
    Pitfall(
        "lipschitz_inverse",
        "Gao & Pavel show that softmax with inverse temperature λ is λ-Lipschitz: a larger λ "
        "(a colder, greedier policy) lets the probabilities change faster, so the bound grows "
        "with λ; it is not 1/λ.",
        "Return the inverse temperature itself. Sanity check: softmax(λ x) is softmax(x) "
        "with x stretched by λ, so a change of x moves it up to λ times as much.",
    ),
)

PITFALLS_EXTRA: dict[str, Pitfall] = {p.id: p for p in _CATALOGUE}
