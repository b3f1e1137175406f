"""Exercise: the lesson's conceptual questions, answered as data.

Rules for every function in this file:
- Answer with plain data: a string for a name or a reason, a tuple of numbers for numbers.
  (No dicts, no objects: the grader only reads strings, numbers and tuples of them.)
- A name is one word from: relu, sigmoid, tanh, softmax, linear. Case, spaces and punctuation
  do not matter ('ReLU' is fine); for "no activation" answer 'linear' ('none' and 'identity'
  are accepted too).
- softmax_by_hand is worked out by hand (or on a calculator), not by calling NumPy's exp:
  return the three numbers you found, to at least three decimals.

Replace each `raise NotImplementedError(...)` with your answer. Run the public checks with
`pytest` in this folder.
"""


def hidden_layer_activation():
    """The standard activation for the hidden layers of an RL network, e.g. 'sigmoid'."""
    raise NotImplementedError("hidden_layer_activation: write your answer here")


def output_activation(task):
    """The activation on the last layer for `task`.

    task is one of:
      'dqn'    - a DQN, which outputs one Q-value per action
      'policy' - a policy-gradient network, which outputs action probabilities
      'critic' - a critic, which outputs one value estimate
      'binary' - a binary classifier, which outputs the probability of the positive class

    Return one name (relu, sigmoid, tanh, softmax or linear).
    """
    raise NotImplementedError("output_activation: write your answer here")


def tanh_over_sigmoid_reason():
    """In a sentence: why is tanh often preferred over sigmoid for hidden layers?

    Think about the output range (sigmoid: 0 to 1, tanh: -1 to 1) and what it means for the
    gradients of the next layer during backpropagation.
    """
    raise NotImplementedError("tanh_over_sigmoid_reason: write your answer here")


def softmax_by_hand():
    """softmax([1, 2, 3]) computed by hand, as a tuple of three numbers.

    Step 1: compute e^1, e^2, e^3. Step 2: sum them. Step 3: divide each by the sum.
    Return (p1, p2, p3), e.g. (0.123, 0.234, 0.643).
    """
    raise NotImplementedError("softmax_by_hand: write your answer here")


def activation_range(name):
    """The range of activation `name` ('relu', 'sigmoid' or 'tanh') as (lower, upper).

    Use float('inf') for an end that is unbounded, e.g. (-float('inf'), 0.0).
    """
    raise NotImplementedError("activation_range: write your answer here")
