"""Service tickets: validation, the tkt_ store and the ticket lifecycle.

Importing the package registers the tkt_ (and pol_) tables on core.db.Base.metadata.
"""
from tickets import models  # noqa: F401
