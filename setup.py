"""Packages: everything under src/, plus the top-level models/ folder as balance.models (the pose bundles).

pyproject.toml's table form cannot add a package that lives outside the `find` root, hence this one line.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages("src"), "balance.models"])
