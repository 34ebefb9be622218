"""Load llama.cpp models safely on hosts where one of its fast paths crashes.

llama.cpp's AMX matrix path (Intel Sapphire Rapids and later) segfaults on the first call with
Q4_K weights on some hosts (ggml-org/llama.cpp#20824, closed unfixed). A llama-cpp-python built
natively on such a host compiles that path in, so every catalogue model would crash the process.
When the build has AMX, models are therefore loaded without llama.cpp's extra weight buffers
(AMX and repack): slower, never a crash. A build without AMX keeps the repacked fast path; the
README's install commands build one (`AMX_FREE_BUILD`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Iterator
from typing import Any

AMX_FREE_BUILD = 'CMAKE_ARGS="-DCMAKE_C_FLAGS=-U__AMX_INT8__ -DCMAKE_CXX_FLAGS=-U__AMX_INT8__"'
REBUILD = (f"{AMX_FREE_BUILD} pip install --force-reinstall --no-cache-dir --no-deps "
           "llama-cpp-python==0.3.36")
_log = logging.getLogger(__name__)
# Model loads that swap llama.cpp's default-parameter factory run one at a time.
_SWAP = threading.Lock()


@functools.cache
def amx_in_build() -> bool:
    """Whether the installed llama.cpp was compiled with its AMX matrix path."""
    import llama_cpp

    return "AMX_INT8 = 1" in llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")


@contextlib.contextmanager
def safe_weight_buffers() -> Iterator[None]:
    """Around a model load: with an AMX build, load without the extra weight buffers."""
    if not amx_in_build():
        yield
        return
    import llama_cpp.llama_cpp as low

    _log.warning("llama.cpp was built with AMX, whose matrix path crashes on some hosts "
                 "(llama.cpp#20824); loading without AMX/repack buffers (slower). For full speed: %s", REBUILD)
    with _SWAP:
        original = low.llama_model_default_params

        def without_extra_buffers() -> Any:
            params = original()
            params.use_extra_bufts = False
            return params

        low.llama_model_default_params = without_extra_buffers
        try:
            yield
        finally:
            low.llama_model_default_params = original
