"""Best-of-n timing, shared by the benchmarks: of a call, and of a whole process."""

import subprocess
import time


def best_of(fn, repeats: int = 5, warm_up: bool = False) -> float:
    """The shortest of `repeats` timed calls of `fn` (seconds), after one untimed call if `warm_up`."""
    if warm_up:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def best_of_process(cmd: list[str], repeats: int = 5) -> float:
    """The shortest of `repeats` runs of the command `cmd` as a whole process (seconds)."""
    return best_of(lambda: subprocess.run(cmd, check=True, capture_output=True), repeats)
