"""The core: expression nodes (data only), shape inference and matdiff's errors."""
