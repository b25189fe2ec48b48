"""Optional integrations with training frameworks (each imports its framework only when used).

* :mod:`propulate.integrations.lightning`: a PyTorch Lightning callback that reports validation
  metrics to Propulate's early stopping and stops the ``Trainer`` of a pruned individual.
"""
