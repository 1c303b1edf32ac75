"""Training and evaluation: one trainer for every task kind, and the pure evaluation job."""
