"""roomchat's tooling, installed with the project (`pip install -e .`, which `make venv` runs).

`roomchat --help` (cli.py) lists the commands. Packages: ``local`` (the local AWS behind
`make run`), ``infra`` (Terraform: build, deploy, lint), ``bench`` (`make bench`); modules:
``chat`` and ``history``
(terminal clients), ``stackfile`` (finds a running local stack), ``connect_token`` (signed
connect tokens).
"""
