"""Stand-in for the get-pip bootstrap script ansible-test downloads.

ansible-test creates its virtualenvs without pip and runs a get-pip script
fetched from a host these machines cannot reach. This one does the same job
from what is reachable: ensurepip (bundled with Python) installs a pip, which
then installs the requested versions from the package index. Arguments are
get-pip's: pip install options and requirements, plus --no-setuptools and
--no-wheel.
"""
import ensurepip
import os
import subprocess
import sys


def main():
    arguments = sys.argv[1:]
    packages = []
    if "--no-setuptools" not in arguments:
        packages.append("setuptools")
    if "--no-wheel" not in arguments:
        packages.append("wheel")
    arguments = [argument for argument in arguments if argument not in ("--no-setuptools", "--no-wheel")]
    environment = dict(os.environ)
    # ensurepip points PIP_CONFIG_FILE at /dev/null in this process; the real
    # install must see the machine's pip configuration (index, certificates).
    ensurepip.bootstrap(upgrade=True, default_pip=True)
    return subprocess.call([sys.executable, "-m", "pip", "install"] + arguments + packages, env=environment)


if __name__ == "__main__":
    sys.exit(main())
