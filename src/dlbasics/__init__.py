"""dlbasics: helpers for the course "Deep Learning Basics with PyTorch".

One module per concern: ``data`` (data sets), ``losses``, ``train`` (recorded
training), ``surface`` (loss grids), ``plots``, ``anim`` (light HTML
animations), ``gradcheck`` and ``closed_form``.
"""

__version__ = "0.1.0"
