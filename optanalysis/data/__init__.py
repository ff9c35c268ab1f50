"""Data shipped with the package: real training logs (:mod:`.training_logs`)."""
