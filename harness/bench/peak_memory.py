"""The Python interpreter `make bench` gives Ansible's modules: runs the module as a child and appends the child's
peak resident memory (KiB) to $BENCH_PEAK_MEMORY_LOG, so the benchmark reports what a module run needed."""
import os
import resource
import subprocess
import sys

completed = subprocess.run([sys.executable, *sys.argv[1:]], check=False)
with open(os.environ["BENCH_PEAK_MEMORY_LOG"], "a", encoding="utf-8") as log:
    log.write(f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\n")
sys.exit(completed.returncode)
