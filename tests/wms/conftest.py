from __future__ import annotations

import sys

import pytest

# The contract suite lives in the package; let pytest explain its failed asserts. Only
# possible before the first import, and registering later would warn (an error here).
if "centrasync.testing" not in sys.modules:
    pytest.register_assert_rewrite("centrasync.testing")
