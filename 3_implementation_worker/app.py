"""Hugging Face Space entry point of the autocoder implementation worker: settings in, app out.

Runs the same way locally: ``python 3_implementation_worker/app.py`` (with autocoder installed).
"""

import sys
from pathlib import Path

# On a Space, the deploy step puts the library next to this file; in a checkout it is in ../shared.
for candidate in (Path(__file__).parent, Path(__file__).resolve().parent.parent / "shared"):
    if (candidate / "autocoder").is_dir() and str(candidate) not in sys.path:
        sys.path.insert(0, str(candidate))

from autocoder.apps.launch import run_space  # noqa: E402

if __name__ == "__main__":
    run_space("implementation")
