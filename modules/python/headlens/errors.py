"""Why a project cannot be read. Every message names the file, and the trace or dataset."""


class ProjectError(Exception):
    """A project file, or something inside it, that cannot be read."""


class NotAProjectError(ProjectError):
    """The file is not a HeadLens project: not HDF5, or another format."""


class NewerSchemaError(ProjectError):
    """The file was written with a newer schema than this package reads."""
