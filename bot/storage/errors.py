"""Storage failures the callers may survive (a locked or unreachable database)."""


class StorageUnavailable(RuntimeError):
    pass
