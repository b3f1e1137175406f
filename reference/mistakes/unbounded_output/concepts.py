def hidden_layer_activation():
    return "relu"


def output_activation(task):
    if task == "policy":
        return "softmax"
    if task == "binary":
        return "sigmoid"
    if task == "dqn":
        return "softmax"
    return "tanh"


def tanh_over_sigmoid_reason():
    return "Tanh outputs are zero-centred, sigmoid outputs are always positive."


def softmax_by_hand():
    return (0.090, 0.245, 0.665)


def activation_range(name):
    if name == "relu":
        return (0.0, float("inf"))
    if name == "sigmoid":
        return (0.0, 1.0)
    return (-1.0, 1.0)
