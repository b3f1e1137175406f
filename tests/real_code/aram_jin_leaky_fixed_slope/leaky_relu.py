# From Aram-Jin/Study, keras2/keras65_3_4_leakyrelu.py: leaky relu ("leakyrelu(x)" there) as
# written there, with the exercise's alpha parameter added and left unused as the original has
# none; relu_grad is the lesson's.
import numpy as np


def leaky_relu(x, alpha=0.01):
    return (x>=0)*x + (x<0)*0.01*x # 알파값(보통 0.01) 조정가능


def relu_grad(z):
    return (z > 0).astype(float)
