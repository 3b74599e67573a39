"""Sub-commands of ``hmoe``: each module defines ``register(subparsers)``."""
