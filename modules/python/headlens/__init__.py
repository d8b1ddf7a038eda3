"""Read HeadLens projects (.hlproj) in Python and Jupyter.

    import headlens
    project = headlens.open("example.hlproj")
    trace = project.traces["carry-587+469"]
    lens = trace.lens("resid_post")   # lens.ids[3] reads layer 3 only
    print(trace.grid())

Read-only, lazy (a dataset is read when indexed, one layer at a time if asked), needs numpy and
h5py; pandas only for the to_frame() helpers.
"""

from .datasets import Comparison, Dataset, Group, SparseAttention
from .errors import NewerSchemaError, NotAProjectError, ProjectError
from .layout import FORMAT, SCHEMA_VERSION, SITES
from .project import Attribution, Grid, Project, TopK, Trace, open

__version__ = "0.1.0"  # the HeadLens release it comes with (checked against CMakeLists.txt)

__all__ = ["open", "Project", "Trace", "TopK", "Grid", "Attribution", "Dataset", "SparseAttention", "Group",
           "Comparison", "ProjectError", "NotAProjectError", "NewerSchemaError", "FORMAT",
           "SCHEMA_VERSION", "SITES", "__version__"]
