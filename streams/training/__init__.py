"""Training, cross-validation, evaluation and plots of the classifier head: the only package
that imports scikit-learn and matplotlib (``flashpoint[train]``)."""
