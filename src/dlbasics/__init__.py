"""dlbasics: helpers for the course "Deep Learning Basics with PyTorch".

One module per concern: ``data`` (data sets), ``losses``, ``train`` (recorded
training), ``surface`` (loss grids), ``plots``, ``anim`` (light HTML
animations), ``gradcheck``, ``closed_form`` and ``rnn`` (next-character models).
"""

__version__ = "0.3.0"
