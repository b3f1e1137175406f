"""Hostile submission used to exercise the sandbox: every function misbehaves differently."""

import os

import numpy as np


def relu(z):
    while True:  # never returns: the call must time out
        pass


class _AlwaysEqual:
    """Claims to equal anything, hoping a naive == check passes it."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__


def sigmoid(z):
    return _AlwaysEqual()


def tanh(z):
    return np.ones(10**10)  # 80 GB: must hit the memory limit, not the machine


def softmax(z):
    os._exit(3)  # kills the process running the call
