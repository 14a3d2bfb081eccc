"""Imported automatically by Python when this folder is on PYTHONPATH.

Installs the kit's network guard (see leo_netguard.py). ``make test`` and
``make book`` put this folder on PYTHONPATH so pytest, jupyter-book and every
Jupyter kernel they start run with the guard on.
"""

import leo_netguard

leo_netguard.install()
