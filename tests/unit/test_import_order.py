"""Every module of the functions' package imports first, on its own: a Lambda imports only its
handler's modules, in an order the suite's imports never reproduce, so an import cycle that the
tests' order hides would fail a function's every invocation (ImportError on a partially
initialised module)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"

PROBE = """
import importlib, pkgutil, sys
import roomchat
names = sorted(m.name for m in pkgutil.walk_packages(roomchat.__path__, "roomchat."))
failed = []
for name in names:
    for loaded in [n for n in sys.modules if n == "roomchat" or n.startswith("roomchat.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as e:
        failed.append(f"{name}: {type(e).__name__}: {e}")
print(len(names))
print("\\n".join(failed))
"""


def test_every_module_imports_first_without_a_cycle() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=FUNCTIONS,
        capture_output=True,
        text=True,
        check=True,
    )
    count, *failed = done.stdout.splitlines()
    assert int(count) > 40
    assert [line for line in failed if line] == []
