"""Estimation: the two methods of estimating training compute, the dataset, calibration, claims.

Reads stored rows and data files; never runs models itself.
"""
