"""Policies: the pol_ store, identity verification and policy sources (DB, HTTP).

Importing the package registers the pol_ tables on core.db.Base.metadata.
"""
from policies import models  # noqa: F401
