"""Submissions written the way students publish this lesson's work: notebooks that plot each
activation, compare with TensorFlow and PyTorch, ask for input(), and scripts that end in
plt.show(). Each comes with the same functions alone, which must score exactly the same.

The functions keep the students' own mistakes (an overflowing sigmoid, a softmax without the
max shift, an entropy off by its epsilon), so equal scores mean more than full marks twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

RELU = "def relu(z):\n    return np.maximum(0, z)\n"
NAIVE_SIGMOID = "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"
STABLE_SIGMOID = (
    "def sigmoid(z):\n"
    "    z = np.asarray(z, dtype=float)\n"
    "    e = np.exp(-np.abs(z))\n"
    "    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n"
)
FORMULA_TANH = "def tanh(z):\n    return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))\n"
TORCH_TANH = (
    "def tanh(z):\n"
    "    # PyTorch's tanh is exact for large inputs\n"
    "    return torch.tanh(torch.as_tensor(z)).numpy()\n"
)
NAIVE_SOFTMAX = "def softmax(z):\n    return np.exp(z) / np.sum(np.exp(z))\n"
SOFTMAX = (
    "def softmax(z):\n"
    "    e = np.exp(z - np.max(z, axis=-1, keepdims=True))\n"
    "    return e / np.sum(e, axis=-1, keepdims=True)\n"
)
LEAKY = (
    "def leaky_relu(z, alpha=0.01):\n    return np.where(z > 0, z, alpha * z)\n\n\n"
    "def relu_grad(z):\n    return (z > 0).astype(float)\n"
)
SCALING = (
    "def _softmax(x):\n"
    "    e = np.exp(x - np.max(x, axis=-1, keepdims=True))\n"
    "    return e / np.sum(e, axis=-1, keepdims=True)\n\n\n"
    "def softmax_temperature(z, temperature=1.0):\n"
    "    return _softmax(np.asarray(z, dtype=float) / temperature)\n"
)
ENTROPY = (
    "def entropy(p):\n"
    "    p = np.asarray(p, dtype=float)\n"
    "    return -np.sum(p * np.log(p + EPS), axis=-1)\n"
)
CONCEPTS = (
    'def hidden_layer_activation():\n    return "ReLU"\n\n\n'
    "def output_activation(task):\n"
    '    return {"dqn": "linear", "policy": "softmax", "critic": "linear",\n'
    '            "binary": "sigmoid"}[task]\n\n\n'
    "def tanh_over_sigmoid_reason():\n"
    '    return "tanh is zero-centered, sigmoid is always positive"\n\n\n'
    "def softmax_by_hand():\n    return (0.09, 0.2447, 0.6652)\n\n\n"
    "def activation_range(name):\n"
    '    return {"relu": (0, float("inf")), "sigmoid": (0, 1), "tanh": (-1, 1)}[name]\n'
)
COLLAPSE = (
    "def collapse_linear(W1, b1, W2, b2):\n    return W2 @ W1, W2 @ b1 + b2\n\n\n"
    "def relu_breaks_collapse(W1, b1, W2, b2, x):\n"
    "    A, c = collapse_linear(W1, b1, W2, b2)\n"
    "    return not np.allclose(W2 @ relu(W1 @ x + b1) + b2, A @ x + c)\n"
)
PROPERTIES = (
    "def logsumexp(z):\n"
    "    m = np.max(z, axis=-1, keepdims=True)\n"
    "    total = m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))\n"
    "    return np.squeeze(total, axis=-1)\n\n\n"
    "def boltzmann_policy(q_values, temperature=1.0):\n"
    "    return softmax(np.asarray(q_values, dtype=float) / temperature)\n\n\n"
    "def softmax_lipschitz_bound(inverse_temperature):\n    return inverse_temperature\n"
)
NP = "import numpy as np\n\n\n"


def code(source: str) -> dict[str, object]:
    """A code cell as Jupyter saves it: the source as a list of lines, with an output."""
    lines = source.splitlines(keepends=True)
    return {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": lines,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": ["...\n"]}]}


def markdown(source: str) -> dict[str, object]:
    """A markdown cell."""
    return {"cell_type": "markdown", "metadata": {}, "source": source.splitlines(keepends=True)}


def notebook(*cells: dict[str, object]) -> str:
    """An nbformat-4 notebook with a Python 3 kernel."""
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                               "language": "python"},
                "language_info": {"name": "python", "version": "3.11.4"}}
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": metadata,
                       "cells": list(cells)}, indent=1)


TUTORIAL = notebook(
    markdown("# Activation functions\n\nWe implement ReLU, sigmoid, tanh and softmax in NumPy "
             "and plot each one."),
    code("%matplotlib inline\nimport numpy as np\nimport matplotlib.pyplot as plt\n"
         "import seaborn as sns\nfrom IPython.display import display, Markdown\n\n"
         'sns.set_theme(style="whitegrid")\nplt.rcParams["figure.figsize"] = (8, 4)'),
    code("z = np.linspace(-6, 6, 200)\n\ndef plot_activation(f, title):\n    plt.figure()\n"
         "    plt.plot(z, f(z), linewidth=2)\n    plt.title(title)\n"
         '    plt.axhline(0, color="gray", lw=0.5)\n    plt.show()'),
    markdown("## ReLU"),
    code(RELU),
    code('plot_activation(relu, "ReLU")\nrelu(np.array([-2.0, 0.0, 3.0]))'),
    markdown("## Sigmoid"),
    code(NAIVE_SIGMOID),
    code('plot_activation(sigmoid, "Sigmoid")\nsns.lineplot(x=z, y=sigmoid(z))'),
    code(FORMULA_TANH + '\nplot_activation(tanh, "Tanh")'),
    markdown("## Softmax"),
    code(NAIVE_SOFTMAX),
    code("scores = np.array([2.0, 1.0, 0.1])\nprobs = softmax(scores)\nprint(probs, probs.sum())\n"
         "plt.bar(range(3), probs)\nplt.show()\n"
         'display(Markdown(f"**sum of probabilities:** {probs.sum():.3f}"))'),
    code("fig, axes = plt.subplots(2, 2, figsize=(10, 8))\n"
         'for ax, (name, f) in zip(axes.flat, [("ReLU", relu), ("Sigmoid", sigmoid),\n'
         '                                     ("Tanh", tanh), ("Softmax", softmax)]):\n'
         "    ax.plot(z, f(z))\n    ax.set_title(name)\nfig.tight_layout()\n"
         'plt.savefig("activations.png", dpi=150)\nplt.show()'),
)

FRAMEWORKS = notebook(
    markdown("# NumPy activations checked against TensorFlow and PyTorch"),
    code("import numpy as np\nimport tensorflow as tf\nimport torch\n"
         "import torch.nn.functional as F\n\nprint(tf.__version__, torch.__version__)"),
    code(RELU + "\n\n" + LEAKY),
    code(TORCH_TANH),
    code(STABLE_SIGMOID),
    code("x = np.random.randn(1000)\nassert np.allclose(relu(x), tf.nn.relu(x).numpy())\n"
         "assert np.allclose(leaky_relu(x), F.leaky_relu(torch.tensor(x), 0.01).numpy())\n"
         'print("all match TensorFlow and PyTorch")'),
    code("from torch.nn.functional import relu\n%timeit relu(torch.tensor(x))"),
)

INTERACTIVE = notebook(
    markdown("# Softmax temperature, interactively"),
    code("import numpy as np\nEPS = 1e-12"),
    code(SCALING),
    code(ENTROPY),
    code('name = input("What is your name? ")\n'
         'print(f"Hello {name}, let\'s explore temperature!")'),
    code('T = float(input("Temperature: "))\nlogits = np.array([2.0, 1.0, 0.1])\n'
         "print(softmax_temperature(logits, T), entropy(softmax_temperature(logits, T)))"),
    code('while True:\n    answer = input("Another temperature? (q to quit) ")\n'
         '    if answer == "q":\n        break\n'
         "    print(softmax_temperature(logits, float(answer)))"),
)

SEVERAL = notebook(
    markdown("# Week 3: activations, leaky ReLU, concepts, linear collapse, softmax properties"),
    code("import numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt\n"
         "import seaborn as sns\nfrom IPython.display import display"),
    code(RELU + "\n\n" + SOFTMAX),
    code(LEAKY + "\n\nz = np.linspace(-3, 3, 7)\npd.DataFrame({'z': z, 'leaky': leaky_relu(z)})"),
    code(CONCEPTS),
    code(COLLAPSE),
    code("W1, b1 = np.random.randn(4, 3), np.zeros(4)\n"
         "W2, b2 = np.random.randn(2, 4), np.zeros(2)\n"
         "print(relu_breaks_collapse(W1, b1, W2, b2, np.ones(3)))"),
    code(PROPERTIES),
    code("q = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 2.0]])\n"
         "df = pd.DataFrame(boltzmann_policy(q, 0.5), columns=['left', 'stay', 'right'])\n"
         "display(df)\nsns.heatmap(df, annot=True)\nplt.show()"),
)

PLOT_TAIL = (
    "\n\nz = np.linspace(-5, 5, 101)\nfig, axes = plt.subplots(2, 2, figsize=(8, 6))\n"
    "for ax, f in zip(axes.flat, [relu, sigmoid, tanh, softmax]):\n"
    "    ax.plot(z, f(z), label=f.__name__)\n    ax.legend()\n"
    'plt.tight_layout()\nplt.savefig("activations.png")\nplt.show()\n'
)
SCRIPT_FUNCTIONS = "\n\n".join([RELU, STABLE_SIGMOID, FORMULA_TANH, SOFTMAX])
SCRIPT = "import numpy as np\nimport matplotlib.pyplot as plt\n\n\n" + SCRIPT_FUNCTIONS + PLOT_TAIL
SCRIPT_WITH_TORCH = (
    "import numpy as np\nimport matplotlib.pyplot as plt\nimport torch\n\n\n" + SCRIPT_FUNCTIONS
    + PLOT_TAIL + "print(torch.relu(torch.tensor(z)))\n"
)

# tanh really needs torch: it alone fails; the plots and the comparison are left out.
SCRIPT_NEEDS_TORCH = (
    "import numpy as np\nimport matplotlib.pyplot as plt\nimport torch\n\n\n"
    + "\n\n".join([RELU, STABLE_SIGMOID, TORCH_TANH, SOFTMAX]) + PLOT_TAIL
)


@dataclass(frozen=True)
class Case:
    """A submission with code around its functions, and the same functions alone."""

    name: str
    """The submission's id; the functions alone are graded as '<name>-bare'."""
    files: dict[str, str]
    """File name -> text of the submission."""
    bare: dict[str, str]
    """File name -> text of the functions alone."""
    notes: int
    """How many notes about code that did not run its page must have."""


CASES = (
    Case("tutorial", {"tutorial.ipynb": TUTORIAL}, {
        "activations.py": NP + "\n\n".join([RELU, NAIVE_SIGMOID, FORMULA_TANH, NAIVE_SOFTMAX]),
        "softmax_debug.py": NP + NAIVE_SOFTMAX}, notes=1),
    Case("frameworks", {"frameworks.ipynb": FRAMEWORKS}, {
        # Without torch, tanh fails in both: a NameError here, a missing module there.
        "activations.py": NP + "\n\n".join([RELU, TORCH_TANH, STABLE_SIGMOID]),
        "leaky_relu.py": NP + LEAKY}, notes=1),
    Case("interactive", {"interactive.ipynb": INTERACTIVE}, {
        "scaling.py": NP + "EPS = 1e-12\n\n\n" + SCALING + "\n\n" + ENTROPY}, notes=1),
    Case("several", {"week3.ipynb": SEVERAL}, {
        "activations.py": NP + RELU + "\n\n" + SOFTMAX,
        "softmax_debug.py": NP + SOFTMAX,
        "leaky_relu.py": NP + LEAKY,
        "concepts.py": CONCEPTS,
        "linear_collapse.py": NP + RELU + "\n\n" + COLLAPSE,
        "softmax_properties.py": NP + SOFTMAX + "\n\n" + PROPERTIES}, notes=1),
    # Runs as it is (plots go to the Agg backend or a stand-in): graded as sent, no note.
    Case("script", {"activations.py": SCRIPT}, {"activations.py": NP + SCRIPT_FUNCTIONS},
         notes=0),
    # Cannot run as it is: its functions are graded without the comparison.
    Case("script-torch", {"activations.py": SCRIPT_WITH_TORCH},
         {"activations.py": NP + SCRIPT_FUNCTIONS}, notes=1),
    Case("script-needs-torch", {"activations.py": SCRIPT_NEEDS_TORCH}, {
        "activations.py": NP + "\n\n".join([RELU, STABLE_SIGMOID, TORCH_TANH, SOFTMAX])},
        notes=1),
)


def write_class(folder: Path) -> None:
    """Every case and its functions alone, one folder per submission."""
    for case in CASES:
        for suffix, files in (("", case.files), ("-bare", case.bare)):
            (folder / f"{case.name}{suffix}").mkdir(parents=True)
            for name, text in files.items():
                (folder / f"{case.name}{suffix}" / name).write_text(text, encoding="utf-8")
