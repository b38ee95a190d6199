import poise  # noqa: F401 - first: poise/__init__.py bounds NumPy's BLAS threads before NumPy loads
