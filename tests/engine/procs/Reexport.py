# A module that re-exports a class from outside the procedure packages under the name the
# mod path expects.
from subprocess import Popen as Reexport  # noqa: F401
